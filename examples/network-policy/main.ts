import * as path from 'path';
import { App } from 'cdk8s';
import { NetworkPolicyExample } from './chart';

const app = new App({ outdir: path.join(__dirname, 'dist') });
new NetworkPolicyExample(app, 'network-policy');
app.synth();
