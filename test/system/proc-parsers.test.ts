import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { isWholeDisk, parseDiskstats } from '../../src/system/proc/parse-diskstats.js';
import { parseLoadavg } from '../../src/system/proc/parse-loadavg.js';
import { parseMeminfo } from '../../src/system/proc/parse-meminfo.js';
import { parseNetDev } from '../../src/system/proc/parse-net-dev.js';
import { parseChildren, parsePidStat, parsePidStatus } from '../../src/system/proc/parse-pid.js';
import { cpuUtilization, parseStat } from '../../src/system/proc/parse-stat.js';
import { parseKernelPageSize, parseUptime } from '../../src/system/proc/parse-uptime.js';
import { ProcParseError } from '../../src/system/proc/proc-parse-error.js';

const FIXTURES = path.join(import.meta.dirname, '../fixtures/proc');
const fixture = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), 'latin1');

describe('/proc/stat', () => {
  test('the aggregate cpu line gives jiffies per mode and the cpuN lines the CPU count', () => {
    const times = parseStat(fixture('stat.1'));
    expect(times.cpuCount).toBe(2);
    expect(times.modes).toEqual({
      user: 63049,
      nice: 0,
      system: 14091,
      idle: 386496,
      iowait: 795,
      irq: 0,
      softirq: 125,
      steal: 72,
    });
    expect(times.total).toBe(63049 + 14091 + 386496 + 795 + 125 + 72);
  });

  test('two reads give the fraction of time spent in each mode', () => {
    const modes = cpuUtilization(parseStat(fixture('stat.1')), parseStat(fixture('stat.2')));
    // Deltas: user 192, system 10, idle 1, steal 3 → 206 jiffies.
    expect(modes?.user).toBeCloseTo(192 / 206, 12);
    expect(modes?.system).toBeCloseTo(10 / 206, 12);
    expect(modes?.idle).toBeCloseTo(1 / 206, 12);
    expect(modes?.steal).toBeCloseTo(3 / 206, 12);
    expect(modes?.iowait).toBe(0);
  });

  test('no time between reads gives no utilization rather than a division by zero', () => {
    const times = parseStat(fixture('stat.1'));
    expect(cpuUtilization(times, times)).toBeUndefined();
  });

  test('a corrupt counter is reported with the file, line and field', () => {
    const text = fixture('stat.1').replace(/^cpu {2}63049/, 'cpu  6x049');
    expect(() => parseStat(text, '/proc/stat')).toThrow(ProcParseError);
    expect(() => parseStat(text, '/proc/stat')).toThrow('/proc/stat:1: field "cpu.user"');
  });

  test('a text without the cpu line is an error naming the file', () => {
    expect(() => parseStat('intr 1 2 3\n', 'x/stat')).toThrow('x/stat:1: field "cpu" line is missing');
  });
});

test('/proc/loadavg gives the three load averages', () => {
  expect(parseLoadavg(fixture('loadavg'))).toEqual({ load1: 1.86, load5: 1.05, load15: 0.66 });
});

describe('/proc/meminfo', () => {
  test('total, available and swap are converted from KiB to bytes', () => {
    expect(parseMeminfo(fixture('meminfo'))).toEqual({
      totalBytes: 24684084 * 1024,
      availableBytes: 23651296 * 1024,
      swapTotalBytes: 0,
      swapFreeBytes: 0,
    });
  });

  test('kernels without MemAvailable fall back to MemFree', () => {
    const text = 'MemTotal: 1000 kB\nMemFree: 400 kB\nSwapTotal: 10 kB\nSwapFree: 4 kB\n';
    expect(parseMeminfo(text)).toEqual({
      totalBytes: 1024000,
      availableBytes: 409600,
      swapTotalBytes: 10240,
      swapFreeBytes: 4096,
    });
  });

  test('a missing MemTotal is an error naming the field', () => {
    expect(() => parseMeminfo('MemFree: 1 kB\n', 'm')).toThrow('m:1: field "MemTotal" is missing');
  });
});

describe('/proc/diskstats', () => {
  test('sectors are 512-byte units, whatever the device', () => {
    expect(parseDiskstats(fixture('diskstats'))).toEqual(
      new Map([['vda', { readBytes: 2664234 * 512, writeBytes: 13727880 * 512 }]]),
    );
  });

  test('partitions, loop, ram and zram devices are left out; whole disks and dm devices stay', () => {
    const disks = parseDiskstats(fixture('diskstats-nvme'));
    expect([...disks.keys()]).toEqual(['nvme0n1', 'sda', 'dm-0', 'mmcblk0']);
    expect(disks.get('sda')).toEqual({ readBytes: 20000 * 512, writeBytes: 40000 * 512 });
  });

  test.each([
    ['nvme0n1', true],
    ['nvme0n1p3', false],
    ['sdb', true],
    ['sdb12', false],
    ['xvda1', false],
    ['md0', true],
    ['loop12', false],
    ['zram0', false],
  ])('isWholeDisk(%s) is %s', (name, expected) => {
    expect(isWholeDisk(name)).toBe(expected);
  });

  test('a short line is reported with its line number and device', () => {
    expect(() => parseDiskstats('   8 0 sda 1 2\n', 'd')).toThrow('d:1: field "sda.sectors_read"');
  });
});

describe('/proc/net/dev', () => {
  test('receive and transmit bytes per interface, without loopback', () => {
    expect(parseNetDev(fixture('net-dev'))).toEqual(
      new Map([
        ['ifb0', { recvBytes: 0, sentBytes: 0 }],
        ['ifb1', { recvBytes: 0, sentBytes: 0 }],
        ['eth0', { recvBytes: 212290613, sentBytes: 519930 }],
      ]),
    );
  });

  test('a counter touching the colon is still read', () => {
    const text = 'Inter-| a\n face | b\n  eth1:4294967296 1 0 0 0 0 0 0 77 2 0 0 0 0 0 0\n';
    expect(parseNetDev(text).get('eth1')).toEqual({ recvBytes: 4294967296, sentBytes: 77 });
  });
});

describe('/proc/<pid>', () => {
  test('stat gives ppid, CPU ticks, threads, resident pages and start time', () => {
    expect(parsePidStat(fixture('pid-stat'))).toEqual({
      pid: 22623,
      ppid: 22598,
      ticks: 0,
      threads: 1,
      rssPages: 415,
      startTicks: 233476,
    });
  });

  test('a comm holding spaces and parentheses does not shift the fields', () => {
    expect(parsePidStat(fixture('pid-stat-odd-comm'))).toEqual({
      pid: 4242,
      ppid: 4000,
      ticks: 1234 + 567,
      threads: 37,
      rssPages: 262144,
      startTicks: 98765,
    });
  });

  test('status gives VmRSS in bytes and the thread count', () => {
    expect(parsePidStatus(fixture('pid-status'))).toEqual({ rssBytes: 1772 * 1024, threads: 1 });
  });

  test('a kernel thread without VmRSS leaves it out', () => {
    expect(parsePidStatus('Name:\tkthreadd\nThreads:\t1\n')).toEqual({ rssBytes: undefined, threads: 1 });
  });

  test('children lists pids and may be empty', () => {
    expect(parseChildren('123 456 \n')).toEqual([123, 456]);
    expect(parseChildren('')).toEqual([]);
  });

  test('a stat text without parentheses is an error naming the file', () => {
    expect(() => parsePidStat('12 cat R 1', '/proc/12/stat')).toThrow('/proc/12/stat:1: field "comm"');
  });
});

test('uptime and the kernel page size are read from their lines', () => {
  expect(parseUptime('350.72 650.10\n')).toBe(350.72);
  expect(
    parseKernelPageSize('55d0-55d1 r--p 0 fd:01 1 /bin/cat\nSize: 8 kB\nKernelPageSize:       64 kB\n'),
  ).toBe(65536);
  expect(parseKernelPageSize('Size: 8 kB\n')).toBeUndefined();
});
