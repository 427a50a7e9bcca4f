/**
 * The Istio ambient "controlling mesh egress" walkthrough as a cdk8s app (see chart.ts).
 *
 * `npx ts-node examples/ambient-egress/main.ts` writes examples/ambient-egress/dist/.
 */
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { defineAmbientEgress } from './chart';

const app = new App({ outdir: path.join(__dirname, 'dist') });
defineAmbientEgress(new Chart(app, 'ambient-egress'));
app.synth();
