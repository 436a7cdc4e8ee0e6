// armvirt's layer rules, checked by `npm test` (scripts/test.sh runs
// `depcruise src`). Layers, bottom to top (docs/architecture.md):
//   io        the interfaces both sides of the hypervisor API share
//   cpu       the ARMv8-A processing element and its JIT (imports io)
//   hv        the KVM side: VM, vCPUs, in-kernel GIC/timers, PSCI (imports cpu, io)
//   devices   what the VMM emulates after an exit: UART, RTC, virtio, disks (imports io only)
//   board     the virt memory map, device tree, loaders (imports io, cpu, hv)
//   vmm       assembles and runs a machine (imports all of the above)
//   cli.ts    the command (imports vmm, board, hv, cpu constants)
// A rule's name is what a failing run prints: it says which arrow is wrong.
const layer = (name, allowed) => ({
  name: `${name}-imports-only-${allowed.join('-') || 'nothing'}`,
  comment: `src/${name}/ may import only from ${allowed.length ? allowed.map(a => `src/${a}/`).join(', ') : 'no other layer'} (and itself)`,
  severity: 'error',
  from: { path: `^src/${name}/` },
  to: { path: '^src/', pathNot: [`^src/${name}/`, ...allowed.map(a => `^src/${a}/`)] },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'no import cycles anywhere (type-only imports count too)', severity: 'error', from: {}, to: { circular: true } },
    layer('io', []),
    layer('cpu', ['io']),
    layer('hv', ['cpu', 'io']),
    layer('devices', ['io']),
    layer('board', ['io', 'cpu', 'hv']),
    layer('vmm', ['io', 'cpu', 'hv', 'devices', 'board']),
    {
      name: 'hv-only-through-its-api',
      comment: 'above hv, the hypervisor is reached only through src/hv/index.ts (as user space reaches KVM only through its ioctls)',
      severity: 'error',
      from: { path: '^src/(board|vmm|devices)/|^src/cli\\.ts$' },
      to: { path: '^src/hv/', pathNot: '^src/hv/index\\.ts$' },
    },
    {
      name: 'nothing-imports-the-cli',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/cli\\.ts$' },
    },
    {
      name: 'jit-is-instruction-set-neutral',
      comment: 'the translator, engine and emitter know no A64 instruction: a64/ plugs its decode tables into them',
      severity: 'error',
      from: { path: '^src/cpu/jit/' },
      to: { path: '^src/cpu/a64/' },
    },
    {
      name: 'leaf-libraries-stay-leaves',
      comment: 'the wasm emitter and the soft-float library depend on nothing else in the tree',
      severity: 'error',
      from: { path: '^src/cpu/(jit/wasm-emitter|fp/softfloat)\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'no-node-builtins-below-the-vmm',
      comment: 'io, cpu and hv run unchanged in a browser: Node built-ins only in devices (disk files), board, vmm and the CLI',
      severity: 'error',
      from: { path: '^src/(io|cpu|hv)/' },
      to: { dependencyTypes: ['core'] },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
