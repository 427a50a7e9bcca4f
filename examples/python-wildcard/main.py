"""The wildcard egress example (examples/wildcard-egress/chart.ts) in Python, through the jsii bindings.

The Istio blog's scenario ("Routing egress traffic to wildcard destinations", 2023): the `sleep` app in namespace
`default` reaches any `*.wikipedia.org` host over TLS, through a dedicated egress gateway in `istio-egress` that
forwards each connection to the host named in its SNI. Nothing else leaves through it.

`npx projen bindings:python` builds the wheel, installs it into a fresh virtual environment and checks that this app
writes the same bytes as the TypeScript example. To run it by hand, in a virtual environment with the wheel
(dist/python/*.whl) installed, in this folder:

    npx cdk8s synth                  # runs `python main.py` (cdk8s.yaml), writes dist/
    python main.py [OUTDIR]          # the same, into OUTDIR (default: dist)
"""
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
    # OUTDIR, or cdk8s's default: $CDK8S_OUTDIR (set by `cdk8s synth`), else dist/
    app = cdk8s.App(outdir=sys.argv[1] if len(sys.argv) > 1 else None)
    WildcardEgressExample(app, "wildcard-egress")
    app.synth()
