import * as path from 'path';
import { App } from 'cdk8s';
import { UdsPackageExample } from './chart';

const app = new App({ outdir: path.join(__dirname, 'dist') });
new UdsPackageExample(app, 'uds-package');
app.synth();
