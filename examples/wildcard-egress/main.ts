import { App } from 'cdk8s';
import { WildcardEgressExample } from './chart';

const app = new App();
new WildcardEgressExample(app, 'wildcard-egress');
app.synth();
