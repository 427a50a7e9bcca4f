/**
 * The Istio ambient "controlling mesh egress" walkthrough as a cdk8s app (see chart.ts).
 *
 * `npx cdk8s synth` in this folder (or `npx projen synth-examples` at the top) writes dist/ambient-egress.k8s.yaml.
 */
import { App, Chart } from 'cdk8s';
import { defineAmbientEgress } from './chart';

const app = new App();
defineAmbientEgress(new Chart(app, 'ambient-egress'));
app.synth();
