import * as path from 'path';
import { App } from 'cdk8s';
import { TlsOriginationExample } from './chart';

const app = new App({ outdir: path.join(__dirname, 'dist') });
new TlsOriginationExample(app, 'tls-origination');
app.synth();
