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
    compilerOptions: { rootDir: '.' },
  },
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'scripts', 'projenrc', '.projenrc.ts'],
    ignorePatterns: ['imports/', 'lib/', 'dist/', 'examples/**/dist/', 'node_modules/', '*.d.ts', '*.js'],
  },

  jestOptions: {
    // A changed snapshot must fail the build; `npx projen test:update` rewrites snapshots on purpose.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    passWithNoTests: false,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      coveragePathIgnorePatterns: ['/node_modules/', '/imports/', '/test/'],
      testTimeout: 120_000,
    },
  },

});

// npm ci breaks on this registry with unrs-resolver@1.13.0 (missing platform packages); 1.12.2 is complete.
project.package.addPackageResolutions('unrs-resolver@1.12.2');
project.package.addField('types', 'lib/src/index.d.ts');
project.package.addField('overrides', { 'unrs-resolver': '1.12.2' });

// Keep sources of generated imports, examples and tooling out of the npm package (lib/ holds the compiled code).
for (const p of ['/imports/', '/examples/', '/scripts/', '/test-reports/', '/.ci/', '/rosetta/']) {
  project.addPackageIgnore(p);
}

project.gitignore.exclude('examples/**/dist/', '.jsii.tabl.json', '*.tabl.json', '.cache/');

// Type-checking (and eslint's project service) for the TypeScript outside src/ and test/: one tsconfig per folder,
// like projen's own test/ and projenrc/ ones.
for (const dir of ['scripts', 'examples']) {
  new JsonFile(project, `${dir}/tsconfig.json`, {
    obj: {
      extends: '../tsconfig.json',
      compilerOptions: { noEmit: true, rootDir: '..' },
      include: ['**/*.ts'],
      exclude: ['node_modules', '**/dist'],
    },
    allowComments: true,
    marker: true,
  });
}

// Quieter jsii on Node 20.
project.tasks.addEnvironment('JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION', '20');

// --- generated imports -------------------------------------------------------------------------------------------
// `npx projen import` regenerates imports/ from the pinned CRDs in ../shared/crds (override with ISTIO_EGRESS_CRDS_DIR).
project.addTask('import', {
  description: 'Regenerate imports/ from the pinned Istio and Gateway API CRDs (ISTIO_EGRESS_CRDS_DIR overrides ../shared/crds)',
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

project.synth();
