import { App } from 'cdk8s';
import { NetworkPolicyExample } from './chart';

const app = new App();
new NetworkPolicyExample(app, 'network-policy');
app.synth();
