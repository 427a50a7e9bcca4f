import * as path from 'path';
import { App } from 'cdk8s';
import { PlatformExample } from './chart';

const app = new App({ outdir: path.join(__dirname, 'dist') });
new PlatformExample(app, 'platform');
app.synth();
