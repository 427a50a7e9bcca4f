import { App } from 'cdk8s';
import { UdsPackageExample } from './chart';

const app = new App();
new UdsPackageExample(app, 'uds-package');
app.synth();
