import { MastodonDatabase } from '/work/main/src/mastodon/index.js';
const t = Date.now();
try { await MastodonDatabase.connect({ host: 'no-such-host.invalid', port: 5432, user: 'u', password: 'pw12345' }); } catch (e) { console.log((e as Error).message, (e as {code?:string}).code, Date.now() - t); }
try { await MastodonDatabase.connect({ host: '/var/run/postgresql', user: 'postgres', password: 'pw12345' }); console.log('connected'); } catch (e) { console.log((e as Error).message, (e as {code?:string}).code); }
try { await MastodonDatabase.connect({ host: '10.255.255.1', port: 5432, user: 'u' }); } catch (e) { console.log((e as Error).message, (e as {code?:string}).code, Date.now() - t); }
