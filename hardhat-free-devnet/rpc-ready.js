#!/usr/bin/env node
// Wait until a JSON-RPC endpoint answers eth_chainId, then print the chain id.
//
//   node rpc-ready.js URL [SECONDS]     (default 30 s; exit 1 on time-out)
'use strict';

const http = require('http');

function chainId(url) {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] });
  return new Promise((resolve) => {
    const req = http.request(
      url,
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, timeout: 1000 },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          try {
            const reply = JSON.parse(text);
            resolve(reply.result === undefined ? null : parseInt(reply.result, 16));
          } catch (err) {
            resolve(null);
          }
        });
      },
    );
    req.on('error', () => resolve(null));
    req.on('timeout', () => req.destroy());
    req.end(body);
  });
}

async function main(argv) {
  const url = argv[0];
  if (!url) {
    process.stderr.write('usage: node rpc-ready.js URL [SECONDS]\n');
    return 2;
  }
  const deadline = Date.now() + 1000 * Number(argv[1] || 30);
  while (Date.now() < deadline) {
    const id = await chainId(url);
    if (id !== null) {
      process.stdout.write(`${id}\n`);
      return 0;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.stderr.write(`${url} did not answer eth_chainId in time\n`);
  return 1;
}

main(process.argv.slice(2)).then((code) => (process.exitCode = code));
