import { App } from 'cdk8s';
import { PlatformExample } from './chart';

const app = new App();
new PlatformExample(app, 'platform');
app.synth();
