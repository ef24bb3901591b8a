import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { hostKeyAlgorithmsFor, knownHostKeys } from '../../src/tunnel/known-hosts.js';

const ed25519 = 'AAAAC3NzaC1lZDI1NTE5AAAAIEexampleexampleexampleexampleexampleexample';
const rsa = 'AAAAB3NzaC1yc2EAAAADAQABAAABAQCexample';
const blob = (base64: string): Buffer => Buffer.from(base64, 'base64');

test('port 22 is looked up as the bare name, other ports as [host]:port', () => {
  const text = `db.example ssh-ed25519 ${ed25519}\n[db.example]:2222 ssh-rsa ${rsa}\n`;
  assert.deepEqual(knownHostKeys(text, 'db.example', 22).trusted, [{ type: 'ssh-ed25519', blob: blob(ed25519) }]);
  assert.deepEqual(knownHostKeys(text, 'db.example', 2222).trusted, [{ type: 'ssh-rsa', blob: blob(rsa) }]);
  assert.deepEqual(knownHostKeys(text, 'other.example', 22).trusted, []);
});

test('comma lists, wildcards, negation and case', () => {
  const text = `web.example,*.db.example,!secret.db.example ssh-ed25519 ${ed25519} comment\n`;
  assert.equal(knownHostKeys(text, 'primary.db.example', 22).trusted.length, 1);
  assert.equal(knownHostKeys(text, 'WEB.example', 22).trusted.length, 1);
  assert.equal(knownHostKeys(text, 'secret.db.example', 22).trusted.length, 0);
  assert.equal(knownHostKeys(`db?.example ssh-ed25519 ${ed25519}\n`, 'db1.example', 22).trusted.length, 1);
});

test('hashed names match by HMAC-SHA1 of the name with the salt', () => {
  const salt = Buffer.from('0123456789abcdefghij');
  const hash = createHmac('sha1', salt).update('[10.0.0.5]:2222').digest('base64');
  const text = `|1|${salt.toString('base64')}|${hash} ssh-ed25519 ${ed25519}\n`;
  assert.equal(knownHostKeys(text, '10.0.0.5', 2222).trusted.length, 1);
  assert.equal(knownHostKeys(text, '10.0.0.5', 22).trusted.length, 0);
});

test('@revoked keys are listed apart; @cert-authority lines and comments are skipped', () => {
  const text = `# a comment\n@cert-authority *.example ssh-rsa ${rsa}\n@revoked * ssh-rsa ${rsa}\nh.example ssh-ed25519 ${ed25519}\n`;
  const entries = knownHostKeys(text, 'h.example', 22);
  assert.deepEqual(entries.trusted, [{ type: 'ssh-ed25519', blob: blob(ed25519) }]);
  assert.deepEqual(entries.revoked, [{ type: 'ssh-rsa', blob: blob(rsa) }]);
});

test('host key algorithms follow the known key types; RSA keys allow the SHA-2 signatures', () => {
  const keys = [
    { type: 'ssh-rsa', blob: blob(rsa) },
    { type: 'ssh-ed25519', blob: blob(ed25519) },
    { type: 'sk-ssh-ed25519@openssh.com', blob: blob(ed25519) },
  ];
  assert.deepEqual(hostKeyAlgorithmsFor(keys), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
  assert.deepEqual(hostKeyAlgorithmsFor([{ type: 'sk-ssh-ed25519@openssh.com', blob: blob(ed25519) }]), []);
});
