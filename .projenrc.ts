import { cdk8s, javascript, JsonFile } from 'projen';

/**
 * Project definition for cdk8s-istio-egress. Every generated file (package.json, tsconfig*, tasks, .gitignore, ...)
 * comes from here: edit this file and run `npx projen`, never the generated files.
 */
const project = new cdk8s.ConstructLibraryCdk8s({
  name: 'cdk8s-istio-egress',
  description:
    'cdk8s constructs that turn egress intent into correct, secure, validated Istio manifests: wildcard egress gateways, ambient egress waypoints, TLS origination and the NetworkPolicies that enforce them.',
  author: 'cdk8s-istio-egress contributors',
  authorAddress: 'maintainers@cdk8s-istio-egress.dev',
  repositoryUrl: 'https://github.com/cdk8s-istio-egress/cdk8s-istio-egress.git',
  keywords: ['cdk8s', 'istio', 'egress', 'kubernetes', 'service-mesh', 'envoy', 'networkpolicy'],
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  github: false,
  release: false,
  minNodeVersion: '20.16.0',

  jsiiVersion: '~6.0.0',
  cdk8sVersion: '2.70.106',
  constructsVersion: '10.4.2',
  peerDeps: ['cdk8s-plus-28@^2.5.6'],
  devDeps: [
    'cdk8s-plus-28@2.5.6',
    'cdk8s-cli@^2.207.0',
    'ajv@^8.17.0',
    'ajv-formats@^3.0.1',
    'fast-check@^4.0.0',
    'yaml@^2.8.0',
  ],

  // jsii publishing targets. The names are API: changing one moves the package.
  publishToPypi: { distName: 'cdk8s-istio-egress', module: 'cdk8s_istio_egress' },
  publishToMaven: {
    mavenGroupId: 'io.github.cdk8s-istio-egress',
    mavenArtifactId: 'cdk8s-istio-egress',
    javaPackage: 'io.github.cdk8sistioegress',
  },
  publishToNuget: { packageId: 'Cdk8sIstioEgress', dotNetNamespace: 'Cdk8sIstioEgress' },
  publishToGo: { moduleName: 'github.com/cdk8s-istio-egress/cdk8s-istio-egress-go' },

  // Generated Istio / Gateway API classes live in imports/ at the top level, beside src/.
  // jsii only compiles files under rootDir, so rootDir is the repository root and the entry point is lib/src.
  entrypoint: 'lib/src/index.js',
  entrypointTypes: 'lib/src/index.d.ts',
  tsconfig: {
    include: ['src/**/*.ts', 'imports/**/*.ts'],
    // No embedded TypeScript sources in the shipped JavaScript: they were 3/4 of lib/ and pushed the npm tarball
    // past 500 kB (source maps still point at the sources).
    compilerOptions: { rootDir: '.', inlineSources: false },
  },
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'scripts', 'bench', 'projenrc', '.projenrc.ts'],
    ignorePatterns: ['imports/', 'lib/', 'dist/', 'examples/**/dist/', 'node_modules/', '*.d.ts', '*.js'],
  },

  jestOptions: {
    // A changed snapshot must fail the build; `npx projen test:update` rewrites snapshots on purpose.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    passWithNoTests: false,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      coveragePathIgnorePatterns: ['/node_modules/', '/imports/', '/test/'],
      // Needs istioctl (built with Go): runs in `npx projen test:istio` / `istio-check`, so that `npx projen build`
      // works on a machine without Go.
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/istio-validate.test.ts'],
      testTimeout: 120_000,
      // The examples import the library by its package name, as a user's app does; in tests that is src/.
      moduleNameMapper: { '^cdk8s-istio-egress$': '<rootDir>/src/index.ts' },
    },
  },

});

// npm ci breaks on this registry with unrs-resolver@1.13.0 (missing platform packages); 1.12.2 is complete.
project.package.addPackageResolutions('unrs-resolver@1.12.2');
project.package.addField('types', 'lib/src/index.d.ts');
project.package.addField('overrides', { 'unrs-resolver': '1.12.2' });

// Keep sources of generated imports, examples and tooling out of the npm package (lib/ holds the compiled code).
const packageIgnores = ['/imports/', '/examples/', '/scripts/', '/bench/', '/docs/', '/test-reports/', '/.ci/', '/rosetta/', '/xds-scenarios/'];
// API.md is the reference rendered on GitHub (the README links it, as it links docs/); installed users have the same
// text in the .d.ts doc comments, and Construct Hub renders its own from .jsii. Left out, it keeps 60 kB gzipped
// (420 kB unpacked) out of every install.
for (const p of [...packageIgnores, '/API.md', '/istioctl-allowed-messages.txt', '/.cache/']) {
  project.addPackageIgnore(p);
}

project.gitignore.exclude('/xds-scenarios/', 'examples/**/dist/', '.jsii.tabl.json', '*.tabl.json', '.cache/', 'bench/results/20*', 'bench/results/candidate/');

// Type-checking (and eslint's project service) for the TypeScript outside src/ and test/: one tsconfig per folder,
// like projen's own test/ and projenrc/ ones.
// In examples/, `cdk8s-istio-egress` (the package name, as in a user's app) is src/.
for (const dir of ['scripts', 'examples', 'bench']) {
  new JsonFile(project, `${dir}/tsconfig.json`, {
    obj: {
      extends: '../tsconfig.json',
      compilerOptions: {
        noEmit: true,
        rootDir: '..',
        ...(dir === 'examples' ? { paths: { 'cdk8s-istio-egress': ['../src/index.ts'] } } : {}),
      },
      include: ['**/*.ts'],
      exclude: ['node_modules', '**/dist'],
    },
    allowComments: true,
    marker: true,
  });
}

// The examples import `cdk8s-istio-egress` by name (resolved to src/ by examples/tsconfig.json, jest and
// scripts/synth-examples.ts); the import resolver does not read that tsconfig's paths.
project.eslint?.addOverride({
  files: ['examples/**/*.ts'],
  rules: { 'import/no-unresolved': ['error', { ignore: ['^cdk8s-istio-egress$'] }] },
});

// Quieter jsii on Node 20.
project.tasks.addEnvironment('JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION', '20');

// --- pinned CRDs and generated imports ----------------------------------------------------------------------------
// The CRDs of every supported Istio minor are Go modules (scripts/crds.ts pins them): `go mod download` fetches them,
// checked against Go's checksum database and pinned sha256 hashes, into ~/.cache/cdk8s-istio-egress/crds
// ($ISTIO_EGRESS_CRDS_CACHE_DIR). `build` fetches them before compiling, so the tests find them; the schema tests
// and `import` fetch them too when run alone. ISTIO_EGRESS_CRDS_DIR=/dir uses the CRD files of one directory instead.
const crds = project.addTask('crds', {
  description: 'Fetch and verify the pinned Istio and Gateway API CRDs with Go (cached in ~/.cache/cdk8s-istio-egress/crds)',
  exec: 'ts-node --transpile-only scripts/fetch-crds.ts',
});
project.preCompileTask.spawn(crds);
// `npx projen import` regenerates imports/ from the oldest supported minor's CRDs; byte-identical on every run.
project.addTask('import', {
  description: 'Regenerate imports/ from the pinned Istio and Gateway API CRDs (ISTIO_EGRESS_CRDS_DIR: from a directory instead)',
  exec: 'ts-node --transpile-only scripts/import-crds.ts',
});

// --- README / doc examples compile -------------------------------------------------------------------------------
const rosetta = project.addTask('rosetta:extract', {
  description: 'Compile every TypeScript example in README.md and doc comments (strict)',
  exec: 'jsii-rosetta extract --strict',
});
project.postCompileTask.spawn(rosetta);

// `build` packages JavaScript only, with or without CI set: the other jsii targets need their own toolchains
// (.NET has no SDK on these machines). `npx projen package-all` builds every binding.
const packageTask = project.tasks.tryFind('package')!;
packageTask.reset();
packageTask.spawn(project.tasks.tryFind('package:js')!);

// --- main job: synthesize the example apps -----------------------------------------------------------------------
project.addTask('synth-examples', {
  description: 'Synthesize every example app under examples/ into examples/<name>/dist',
  exec: 'ts-node --transpile-only scripts/synth-examples.ts',
});
// ... and check every object they synthesized against the CRDs of each supported Istio minor (scripts/crds.ts).
project.tasks.tryFind('synth-examples')!.exec('ts-node --transpile-only scripts/check-examples-schema.ts');

// --- benchmark ---------------------------------------------------------------------------------------------------
// Synth cost at 10..10,000 hosts against the YAML floor and plain ApiObjects; prints a table and writes
// bench/results/. Not a test: its figures never fail a build.
project.addTask('bench', {
  description: 'Synth cost at 10..10,000 hosts vs the YAML floor and plain ApiObjects; writes bench/results/ (not a test)',
  steps: [{ spawn: 'compile' }, { exec: 'node --expose-gc -r ts-node/register/transpile-only bench/bench.ts', receiveArgs: true }],
});

// --- Istio's own validator and analyzers --------------------------------------------------------------------------
// istioctl is built from source with Go (scripts/install-istioctl.sh says why and which version); cached in
// $ISTIOCTL_CACHE_DIR (default ~/.cache/cdk8s-istio-egress/istioctl), so only the first run compiles.
const installIstioctl = project.addTask('install-istioctl', {
  description: 'Build the pinned istioctl from source with Go into $ISTIOCTL_CACHE_DIR (skipped when already built)',
  exec: 'bash scripts/install-istioctl.sh',
});
// Not part of `npx projen test` (see jestOptions): it needs istioctl, and fails without it.
const testIstio = project.addTask('test:istio', {
  description: 'Prove that the istioctl check fails on broken manifests (test/istio-validate.test.ts; needs istioctl)',
  env: { JEST_JUNIT_OUTPUT_NAME: 'istio-junit.xml' },
  exec: 'jest --ci --coverage=false --testPathIgnorePatterns=/node_modules/ --runTestsByPath test/istio-validate.test.ts',
});
const istioCheck = project.addTask('istio-check', {
  description: "Synthesize every example and judge its manifests with Istio's validator and analyzers (builds istioctl if needed)",
});
istioCheck.spawn(project.tasks.tryFind('synth-examples')!);
istioCheck.spawn(installIstioctl);
istioCheck.spawn(testIstio);
istioCheck.exec('ts-node --transpile-only scripts/istio-check.ts');

// --- istiod's own config generator judges the output (xDS) ----------------------------------------------------------
// test/xds is a Go module requiring istio.io/istio at the commit of scripts/istio-source.env (the one istioctl is
// built from); it loads the synthesized manifests into pilot/test/xds.FakeDiscoveryServer and checks what each proxy
// would receive (CONTRIBUTING, "xDS suite"). Go caches are shared with install-istioctl.
const testXds = project.addTask('test:xds', {
  description: 'Synthesize the examples and scenario apps, then judge what istiod sends each proxy (Go, test/xds; writes test-reports/xds-junit.xml)',
});
testXds.spawn(project.tasks.tryFind('synth-examples')!);
testXds.exec('ts-node --transpile-only scripts/synth-xds-scenarios.ts');
testXds.exec('bash scripts/xds.sh', { receiveArgs: true });

// --- jsii bindings -------------------------------------------------------------------------------------------------
// Python: the wheel, installed with its dependencies from PyPI into a fresh virtual environment, must synthesize the
// wildcard example byte-identical to the TypeScript one.
const bindingsPython = project.addTask('bindings:python', {
  description: 'Build the Python wheel, install it into a fresh venv and check that examples/python-wildcard synthesizes byte-identical YAML',
});
bindingsPython.spawn(project.tasks.tryFind('synth-examples')!);
bindingsPython.spawn(project.tasks.tryFind('package:python')!);
bindingsPython.exec('bash scripts/check-python-bindings.sh');

// The quick starts as a reader copies them: README.md's (TypeScript, from `npm pack`) and docs/python.md's (from the
// wheel), each in a new directory with current npm / pip defaults; their manifests must equal the examples'.
project.addTask('test:quick-start', {
  description: "Run the README's and docs/python.md's quick starts as written, from the packed library and the wheel, in a new directory",
  exec: 'bash scripts/check-quick-start.sh',
});

// Java: Maven Central has org.cdk8s:cdk8s only up to 2.70.47 and no org.cdk8s:cdk8s-plus-28, so `package:java` cannot
// resolve the dependencies. This builds their Java packages from the jsii assemblies in node_modules (the exact versions
// the TypeScript side uses) into dist/java beside ours, and compiles ours against them; Maven plugins and the jsii
// runtime come from Maven Central and are cached in ~/.m2/repository.
project.addTask('bindings:java', {
  description: 'Build the Java package (dist/java), with cdk8s, cdk8s-plus-28 and constructs built locally from node_modules',
  exec: 'jsii-pacmak -v --target java --outdir dist --maven-local-repository "$HOME/.m2/repository" '
    + 'node_modules/constructs node_modules/cdk8s node_modules/cdk8s-plus-28 .',
});
// Go: the Go module proxy refuses github.com/aws/jsii-runtime-go, github.com/cdk8s-team/cdk8s-core-go and
// github.com/aws/constructs-go ("This module version is not available"), so `package:go` cannot compile the module.
// This generates it and checks that every file parses as Go.
project.addTask('bindings:go', {
  description: 'Generate the Go module (dist/go) and check that it parses (compiling needs modules the Go proxy does not serve here)',
  steps: [
    { exec: 'jsii-pacmak -v --target go --code-only' },
    { exec: 'gofmt -e -l dist/go > /dev/null && echo "bindings:go: $(find dist/go -name \'*.go\' | wc -l) generated Go files parse"' },
  ],
});

project.synth();
