import * as path from 'path';
import { App } from 'cdk8s';
import { WildcardEgressExample } from './chart';

const app = new App({ outdir: path.join(__dirname, 'dist') });
new WildcardEgressExample(app, 'wildcard-egress');
app.synth();
