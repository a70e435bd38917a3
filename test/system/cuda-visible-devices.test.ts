import { expect, test } from 'vitest';
import { parseCudaVisibleDevices } from '../../src/system/nvml/cuda-visible-devices.js';

test('unset means every device', () => {
  expect(parseCudaVisibleDevices(undefined)).toEqual({ devices: undefined, ignored: [] });
});

test('an empty string means no device', () => {
  expect(parseCudaVisibleDevices('')).toEqual({ devices: [], ignored: [] });
});

test('indices and GPU UUIDs are kept in order, with spaces trimmed', () => {
  expect(parseCudaVisibleDevices(' 3, GPU-8932f937-d72c ,0').devices).toEqual([
    { kind: 'index', index: 3 },
    { kind: 'uuid', uuid: 'GPU-8932f937-d72c' },
    { kind: 'index', index: 0 },
  ]);
});

test('MIG instances are skipped with a reason; an invalid entry ends the list', () => {
  const parsed = parseCudaVisibleDevices('MIG-abc,1,-1,2');
  expect(parsed.devices).toEqual([{ kind: 'index', index: 1 }]);
  expect(parsed.ignored).toEqual([
    'MIG-abc (MIG instance: not sampled)',
    '-1,2 (CUDA ignores "-1" and every entry after an invalid one)',
  ]);
});
