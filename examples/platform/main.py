"""The platform example (examples/platform/chart.ts) in Python, through the jsii bindings: the same YAML document
(platform.yaml) read with EgressAllowListSpec.from_yaml, realised by EgressAllowList.

In a virtual environment with the wheel (dist/python/*.whl) installed:

    python examples/platform/main.py [OUTDIR]    # default: examples/platform/dist/python

It writes the same manifests and egress matrix as `npx ts-node examples/platform/main.ts` (examples/platform/dist).
"""
import os
import sys

import cdk8s
import cdk8s_plus_28 as plus
from constructs import Construct

import cdk8s_istio_egress as egress

HERE = os.path.dirname(os.path.abspath(__file__))


class PlatformExample(cdk8s.Chart):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        with open(os.path.join(HERE, "platform.yaml"), encoding="utf-8") as f:
            spec = egress.EgressAllowListSpec.from_yaml(f.read(), "examples/platform/platform.yaml")

        plus.k8s.KubeNamespace(self, "GatewayNamespace", metadata=plus.k8s.ObjectMeta(name="platform-egress"))
        for ns in spec.namespaces:
            ambient = spec.mode_of(ns) == egress.DataplaneMode.AMBIENT
            labels = {"istio.io/dataplane-mode": "ambient"} if ambient else {"istio-injection": "enabled"}
            plus.k8s.KubeNamespace(self, f"Namespace-{ns}", metadata=plus.k8s.ObjectMeta(name=ns, labels=labels))

        self.allow_list = egress.EgressAllowList(
            self,
            "egress",
            spec=spec,
            default_mode=egress.DataplaneMode.AMBIENT,
            gateway_namespace="platform-egress",
            waypoint_namespace="platform-egress-ambient",
            kube_api_cidrs=["10.96.0.1/32"],
        )


if __name__ == "__main__":
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "dist", "python")
    app = cdk8s.App(outdir=outdir)
    PlatformExample(app, "platform")
    app.synth()
