"""The wildcard egress example (examples/wildcard-egress/chart.ts) in Python, through the jsii bindings.

The Istio blog's scenario ("Routing egress traffic to wildcard destinations", 2023): the `sleep` app in namespace
`default` reaches any `*.wikipedia.org` host over TLS, through a dedicated egress gateway in `istio-egress` that
forwards each connection to the host named in its SNI. Nothing else leaves through it.

`npx projen bindings:python` builds the wheel, installs it into a fresh virtual environment and checks that this app
writes the same bytes as the TypeScript example. To run it by hand, in a virtual environment with the wheel
(dist/python/*.whl) installed:

    python examples/python-wildcard/main.py [OUTDIR]    # default: examples/python-wildcard/dist
"""
import os
import sys

import cdk8s
import cdk8s_plus_28 as plus
from constructs import Construct

import cdk8s_istio_egress as egress


class WildcardEgressExample(cdk8s.Chart):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)

        plus.k8s.KubeNamespace(self, "EgressNamespace", metadata=plus.k8s.ObjectMeta(name="istio-egress"))

        gateway = egress.EgressGateway(
            self,
            "EgressGateway",
            namespace="istio-egress",
            name="egress-gateway",
            replicas=2,
        )

        self.wildcard = egress.WildcardEgressGateway(
            self,
            "Wikipedia",
            gateway=gateway,
            hosts=["*.wikipedia.org"],
            allow_from=[egress.WorkloadIdentity.service_account("default", "sleep")],
        )


if __name__ == "__main__":
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "dist")
    app = cdk8s.App(outdir=outdir)
    WildcardEgressExample(app, "wildcard-egress")
    app.synth()
