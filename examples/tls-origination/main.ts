import { App } from 'cdk8s';
import { TlsOriginationExample } from './chart';

const app = new App();
new TlsOriginationExample(app, 'tls-origination');
app.synth();
