// Unit tests of one-direction TCP reassembly: order, retransmission, overlap, wrap-around, bounds.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seqDiff, TcpDirection } from './tcp.ts';

function run(segments: [seq: number, text: string, syn?: boolean][], maxBytes = 1 << 20, maxPending = 1 << 20) {
  const dir = new TcpDirection(maxBytes, maxPending);
  const out: string[] = [];
  const notes: string[] = [];
  for (const [seq, text, syn] of segments) {
    const note = dir.segment(seq, syn === true, Buffer.from(text, 'latin1'), (d) => out.push(Buffer.from(d).toString('latin1')));
    if (note) notes.push(note);
  }
  return { text: out.join(''), chunks: out, notes, dir };
}

test('seqDiff is signed distance modulo 2^32', () => {
  assert.equal(seqDiff(5, 3), 2);
  assert.equal(seqDiff(3, 5), -2);
  assert.equal(seqDiff(2, 0xfffffffe), 4);
  assert.equal(seqDiff(0xfffffffe, 2), -4);
});

test('in-order segments after a SYN are delivered in order', () => {
  const r = run([
    [1000, '', true],
    [1001, 'hello '],
    [1007, 'world'],
  ]);
  assert.equal(r.text, 'hello world');
  assert.deepEqual(r.chunks, ['hello ', 'world']);
});

test('out-of-order segments are held until the gap is filled', () => {
  const r = run([
    [100, '', true],
    [107, 'world'],
    [111, 'd!'],
    [101, 'hello '],
  ]);
  assert.equal(r.text, 'hello world!');
});

test('retransmitted segments are not delivered twice', () => {
  const r = run([
    [0, '', true],
    [1, 'abc'],
    [1, 'abc'],
    [4, 'def'],
    [1, 'abc'],
  ]);
  assert.equal(r.text, 'abcdef');
  assert.equal(r.notes.filter((n) => n === 'tcp-retransmission').length, 2);
});

test('overlapping segments deliver each byte once, first copy wins', () => {
  // Second segment overlaps the first by 3 bytes with different content; a later one covers a held one.
  const r = run([
    [0, '', true],
    [1, 'abcdef'],
    [4, 'XYZghi'],
    [20, 'tail'],
    [10, 'jklmnopqrs'],
    [13, 'IGNOREDmnop'],
  ]);
  assert.equal(r.text, 'abcdefghijklmnopqrstail');
});

test('a segment starting before and ending after the expected point delivers only the new bytes', () => {
  const r = run([
    [0, '', true],
    [1, 'abcd'],
    [3, 'cdefg'],
  ]);
  assert.deepEqual(r.chunks, ['abcd', 'efg']);
});

test('sequence numbers wrap around 2^32', () => {
  const r = run([
    [0xfffffffd, '', true],
    [0xfffffffe, 'ab'],
    [0, 'cd'],
    [2, 'ef'],
  ]);
  assert.equal(r.text, 'abcdef');
});

test('without a SYN the first data segment starts the stream', () => {
  const r = run([
    [5000, 'mid'],
    [5003, 'stream'],
  ]);
  assert.equal(r.text, 'midstream');
});

test('delivery stops after maxBytes and the direction is marked exhausted', () => {
  const r = run(
    [
      [0, '', true],
      [1, 'abcdef'],
      [7, 'ghij'],
    ],
    8,
  );
  assert.equal(r.text, 'abcdefgh');
  assert.equal(r.dir.exhausted, true);
  assert.equal(r.dir.delivered, 8);
});

test('out-of-order data beyond the pending bound is dropped and counted', () => {
  const r = run(
    [
      [0, '', true],
      [11, 'later-data-1'],
      [23, 'later-data-2'],
      [1, '0123456789'],
    ],
    1 << 20,
    16,
  );
  assert.ok(r.notes.includes('tcp-reassembly-overflow'));
  // The held segment survives; the dropped one leaves a gap that stops delivery.
  assert.equal(r.text, '0123456789later-data-1');
  assert.equal(r.dir.bufferedBytes, 0);
});
