/// The console's assets, embedded in the binary (no CDN, no build step): hand-written
/// JavaScript and CSS served from `/console/assets/`, the only origin the Content-Security-Policy
/// lets scripts and styles come from.
enum ConsoleAssets {
    /// One asset: its text and content type.
    struct Asset: Sendable {
        var text: String
        var contentType: String
    }

    /// The asset named `name`, if any.
    static func named(_ name: String) -> Asset? {
        switch name {
        case "console.js": Asset(text: script, contentType: "text/javascript; charset=utf-8")
        case "console.css": Asset(text: style, contentType: "text/css; charset=utf-8")
        default: nil
        }
    }

    /// Fills the pages from the API's JSON routes, draws the trace as SVG and checks proofs with WebCrypto.
    static let script = #"""
        'use strict';
        // AgriTrace console: fills the pages from the API's JSON routes and checks proofs with WebCrypto.
        (() => {
          const STAGES = ['breeding', 'planting', 'processing', 'warehousing', 'transport', 'sales'];
          const SVG = 'http://www.w3.org/2000/svg';
          const $ = (selector) => document.querySelector(selector);
          const enc = encodeURIComponent;
          let session = null;

          function hex(text) {
            if (typeof text !== 'string' || text.length % 2 !== 0 || /[^0-9a-fA-F]/.test(text)) {
              throw new Error('not hex: ' + String(text).slice(0, 20));
            }
            const bytes = new Uint8Array(text.length / 2);
            for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.substr(2 * i, 2), 16);
            return bytes;
          }
          const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
          function concat(...parts) {
            const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
            let at = 0;
            for (const p of parts) { out.set(p, at); at += p.length; }
            return out;
          }
          const u32 = (n) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
          const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
          const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
          const nodeHash = (left, right) => sha256(concat(new Uint8Array([1]), left, right));

          async function api(path, options) {
            const response = await fetch(path, Object.assign({ credentials: 'same-origin', headers: { Accept: 'application/json' } }, options));
            if (!response.ok) throw new Error(path + ': HTTP ' + response.status + ' ' + (await response.text()).slice(0, 200));
            return response.json();
          }
          function showError(error) {
            let box = $('#error');
            if (!box) {
              box = document.createElement('p');
              box.id = 'error';
              box.setAttribute('role', 'alert');
              $('main').prepend(box);
            }
            box.textContent = String(error.message || error);
          }
          function element(name, text, attributes) {
            const node = document.createElement(name);
            if (text !== undefined) node.textContent = text === null ? '–' : String(text);
            for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
            return node;
          }
          function proofLink(leaf) {
            const cell = element('td');
            if (leaf !== null && leaf !== undefined) cell.appendChild(element('a', 'leaf ' + leaf, { href: '/console/proof?leaf=' + enc(leaf) }));
            return cell;
          }
          function addRow(table, values, leaf) {
            const row = element('tr');
            for (const value of values) row.appendChild(element('td', value === undefined ? null : value));
            if (leaf !== false) row.appendChild(proofLink(leaf));
            table.querySelector('tbody').appendChild(row);
            return row;
          }
          const clear = (table) => { table.querySelector('tbody').textContent = ''; };

          // Ledger: status, blocks (paged by height), devices, principals (paged by name).
          async function ledgerPage() {
            // The four parts are asked for at once and drawn as they come.
            const drawStatus = (status) => {
            const list = $('#status');
            const facts = [['height', status.height], ['log size', status.logSize], ['records', status.records],
              ['ingest rate (records/s)', Number(status.ingestRatePerSecond).toFixed(1)], ['last block', status.lastBlockTime],
              ['log root', status.logRoot], ['devices active / revoked', status.devicesActive + ' / ' + status.devicesRevoked]];
            for (const [name, value] of facts) { list.appendChild(element('dt', name)); list.appendChild(element('dd', value)); }
            };
            let before = null;
            const olderBlocks = async () => {
              const rows = await api('/v1/blocks?limit=20' + (before === null ? '' : '&before=' + before));
              for (const b of rows) addRow($('#blocks'), [b.height, b.time, b.transactionCount, b.logSize, b.logRoot.slice(0, 16) + '…'], false);
              if (rows.length) before = rows[rows.length - 1].height;
              $('#blocks-older').disabled = rows.length < 20;
            };
            $('#blocks-older').addEventListener('click', () => olderBlocks().catch(showError));
            const devices = async () => {
              for (const d of await api('/v1/devices')) addRow($('#devices'), [d.enterprise, d.device, d.stage, d.status, d.registeredHeight], false);
            };
            let after = '';
            const morePrincipals = async () => {
              const rows = await api('/v1/principals?limit=50&after=' + enc(after));
              for (const p of rows) addRow($('#principals'), [p.name, p.kind, p.enterprise, p.role, p.status], false);
              if (rows.length) after = rows[rows.length - 1].name;
              $('#principals-more').disabled = rows.length < 50;
            };
            $('#principals-more').addEventListener('click', () => morePrincipals().catch(showError));
            await Promise.all([api('/v1/status').then(drawStatus), olderBlocks(), devices(), morePrincipals()]);
          }

          // Trace: the lot's backward and forward records, drawn as stage lanes, then listed.
          async function tracePage() {
            $('#trace-form').addEventListener('submit', (event) => {
              event.preventDefault();
              const lot = $('#lot').value.trim();
              history.replaceState(null, '', '?lot=' + enc(lot));
              drawTrace(lot).catch(showError);
            });
            const lot = new URLSearchParams(location.search).get('lot');
            if (lot) { $('#lot').value = lot; await drawTrace(lot); }
          }
          async function drawTrace(lot) {
            $('#trace-status').textContent = 'tracing ' + lot + '…';
            const [backward, forward] = await Promise.all([
              api('/v1/trace/' + enc(lot) + '?direction=backward'), api('/v1/trace/' + enc(lot) + '?direction=forward')]);
            const byID = new Map();
            for (const record of backward.concat(forward)) byID.set(record.recordID, record);
            const records = Array.from(byID.values()).sort((a, b) =>
              STAGES.indexOf(a.stage) - STAGES.indexOf(b.stage) || a.time.localeCompare(b.time));
            $('#graph').textContent = '';
            $('#records').textContent = '';
            if (!records.length) { $('#trace-status').textContent = 'no records for lot ' + lot; return; }
            $('#graph').appendChild(graph(records, lot));
            for (const record of records) $('#records').appendChild(recordCard(record));
            const stages = new Set(records.map((r) => r.stage));
            $('#trace-status').textContent = records.length + ' records across ' + stages.size + ' stages';
            downloads(lot);
          }
          // Downloads: the lot's backward trace as an EPCIS 2.0 document and an FSMA 204 spreadsheet,
          // straight from the API's export routes (they answer with Content-Disposition: attachment).
          function downloads(lot) {
            const list = $('#downloads');
            list.textContent = '';
            for (const [id, route, text] of [['download-epcis', 'epcis', 'EPCIS 2.0 document (JSON-LD)'],
              ['download-fsma204', 'fsma204', 'FSMA 204 sortable spreadsheet (CSV)']]) {
              const item = element('li');
              item.appendChild(element('a', text + ' of ' + lot + ' and its inputs',
                { id, href: '/v1/export/' + route + '?lot=' + enc(lot) + '&direction=backward', download: '' }));
              list.appendChild(item);
            }
            $('#downloads-section').hidden = false;
          }
          function svgNode(name, attributes, text) {
            const node = document.createElementNS(SVG, name);
            for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
            if (text !== undefined) node.textContent = text;
            return node;
          }
          function graph(records, focus) {
            const lots = new Map();
            for (const r of records) {
              if (!lots.has(r.lot)) lots.set(r.lot, { lot: r.lot, stage: r.stage, inputs: new Set() });
              for (const input of r.inputLots) lots.get(r.lot).inputs.add(input);
            }
            const lanes = STAGES.map((stage) => Array.from(lots.values()).filter((l) => l.stage === stage));
            const laneHeight = 60, label = 100, nodeWidth = 150, nodeHeight = 28, gap = 16;
            const width = label + Math.max(1, ...lanes.map((l) => l.length)) * (nodeWidth + gap) + gap;
            const svg = svgNode('svg', { viewBox: `0 0 ${width} ${STAGES.length * laneHeight}`, role: 'img', 'aria-labelledby': 'graph-title', id: 'trace-graph' });
            svg.appendChild(svgNode('title', { id: 'graph-title' }, 'Lots of the trace of ' + focus + ' by stage, with links from input lots'));
            const at = new Map();
            lanes.forEach((lane, i) => {
              const group = svgNode('g', { class: 'lane', 'data-stage': STAGES[i] });
              group.appendChild(svgNode('rect', { x: 0, y: i * laneHeight, width, height: laneHeight, class: i % 2 ? 'band odd' : 'band' }));
              group.appendChild(svgNode('text', { x: 8, y: i * laneHeight + laneHeight / 2 + 5, class: 'lane-label' }, STAGES[i]));
              svg.appendChild(group);
              lane.forEach((l, j) => at.set(l.lot, { x: label + gap + j * (nodeWidth + gap), y: i * laneHeight + (laneHeight - nodeHeight) / 2 }));
            });
            for (const l of lots.values()) {
              for (const input of l.inputs) {
                const from = at.get(input), to = at.get(l.lot);
                if (!from || !to) continue;
                svg.appendChild(svgNode('line', { class: 'edge', x1: from.x + nodeWidth / 2, y1: from.y + nodeHeight, x2: to.x + nodeWidth / 2, y2: to.y, 'data-from': input, 'data-to': l.lot }));
              }
            }
            for (const l of lots.values()) {
              const p = at.get(l.lot);
              const link = svgNode('a', { href: '?lot=' + enc(l.lot), class: 'node' + (l.lot === focus ? ' focus' : ''), 'data-lot': l.lot, 'data-stage': l.stage });
              link.appendChild(svgNode('rect', { x: p.x, y: p.y, width: nodeWidth, height: nodeHeight, rx: 6 }));
              link.appendChild(svgNode('text', { x: p.x + nodeWidth / 2, y: p.y + nodeHeight / 2 + 5, 'text-anchor': 'middle' }, l.lot));
              svg.appendChild(link);
            }
            return svg;
          }
          function fieldTable(caption, fields) {
            const table = element('table', undefined, { class: 'fields' });
            table.appendChild(element('caption', caption));
            const body = element('tbody');
            for (const [name, value] of Object.entries(fields).sort()) {
              const row = element('tr');
              row.appendChild(element('th', name, { scope: 'row' }));
              row.appendChild(element('td', value));
              body.appendChild(row);
            }
            table.appendChild(body);
            return table;
          }
          function recordCard(r) {
            const card = element('article', undefined, { class: 'record', 'data-stage': r.stage });
            card.appendChild(element('h3', r.stage + ' · ' + r.lot));
            const facts = element('dl');
            for (const [name, value] of [['record', r.recordID], ['enterprise', r.enterprise], ['device', r.device], ['time', r.time + (r.clockTrusted ? '' : ' (device clock not trusted)')],
              ['block height', r.height], ['leaf', r.leafIndex], ['input lots', r.inputLots.join(', ') || '–']]) {
              facts.appendChild(element('dt', name));
              facts.appendChild(element('dd', value));
            }
            card.appendChild(facts);
            card.appendChild(fieldTable('Public fields', r.publicFields));
            card.appendChild(fieldTable('Commitments (salted SHA-256; the values stay with the owner)', r.commitments));
            card.appendChild(element('a', 'Check this record\'s proof in the browser', { href: '/console/proof?record=' + enc(r.recordID) }));
            return card;
          }

          // Proof: fetched from the API (or pasted), checked here with WebCrypto.
          async function proofPage() {
            $('#authority').value = session.authority || '';
            $('#proof-form').addEventListener('submit', (event) => { event.preventDefault(); checkProof(); });
            const params = new URLSearchParams(location.search);
            let path = null;
            if (params.get('record')) path = '/v1/proof/' + enc(params.get('record'));
            else if (params.get('leaf')) path = '/v1/leaves/' + enc(params.get('leaf')) + '/entry';
            if (path) {
              $('#proof-json').value = JSON.stringify(await api(path), null, 2);
              await checkProof();
            }
          }
          async function checkProof() {
            const result = $('#proof-result'), list = $('#proof-checks');
            const checks = [];
            list.textContent = '';
            result.textContent = 'checking…';
            try {
              await verifyProof(JSON.parse($('#proof-json').value), $('#authority').value.trim(), checks);
              result.textContent = 'valid: every check passed';
              result.className = 'valid';
            } catch (error) {
              result.textContent = 'invalid: ' + (error.message || error);
              result.className = 'invalid';
            }
            for (const check of checks) list.appendChild(element('li', check));
            result.dataset.outcome = result.className;
          }
          async function verifyProof(proof, authority, checks) {
            const inclusion = proof.format === 'agritrace-inclusion-proof/v1';
            if (!inclusion && proof.format !== 'agritrace-leaf-proof/v1') throw new Error('unknown proof format ' + proof.format);
            if (!window.crypto || !crypto.subtle) throw new Error('WebCrypto is unavailable (the page is not in a secure context)');
            const signed = hex(proof.treeHead.signedHeader);
            const at = signed.length - 68;
            if (at < 116 || new DataView(signed.buffer).getUint32(at) !== 64) throw new Error('the tree head is not a signed block header');
            const header = signed.slice(0, at), signature = signed.slice(at + 4);
            const domain = new TextEncoder().encode('agritrace/v1/sig/block-header');
            const key = await crypto.subtle.importKey('raw', hex(authority), { name: 'Ed25519' }, false, ['verify']);
            if (!await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, concat(u32(domain.length), domain, header))) {
              throw new Error('the tree head\'s Ed25519 signature does not verify under the authority key');
            }
            const view = new DataView(header.buffer);
            const size = Number(view.getBigUint64(76)), root = header.slice(84, 116);
            checks.push('Ed25519 signature of the tree head verifies under the authority key ' + authority.slice(0, 16) + '… (' +
              (authority === session.authority ? 'the key the server\'s store recorded: compare it with your own copy' : 'the key you gave') + ')');
            checks.push('signed tree head: height ' + Number(view.getBigUint64(0)) + ', log size ' + size + ', root ' + toHex(root));
            const entry = hex(proof.entry);
            if (inclusion) {
              const prefix = concat(u32(22), new TextEncoder().encode('agritrace/v1/log-entry'), new Uint8Array([1]));
              if (!equal(entry.slice(0, 27), prefix) || toHex(entry.slice(28, 44)) !== String(proof.recordID).toLowerCase()) {
                throw new Error('the entry is not record ' + proof.recordID);
              }
              checks.push('the log entry is record ' + proof.recordID);
            }
            const leaf = await sha256(concat(new Uint8Array([0]), entry));
            checks.push('leaf hash SHA-256(0x00 ‖ entry) = ' + toHex(leaf));
            const path = proof.proof.map(hex);
            if (path.some((p) => p.length !== 32)) throw new Error('an audit path hash is not 32 bytes');
            const computed = await rootFromPath(leaf, Number(proof.leafIndex), size, path);
            if (!equal(computed, root)) throw new Error('the audit path from leaf ' + proof.leafIndex + ' does not lead to the signed root');
            checks.push('the audit path of ' + path.length + ' hashes from leaf ' + proof.leafIndex + ' recomputes the signed root (RFC 9162 §2.1.3.2)');
          }
          async function rootFromPath(leaf, index, size, path) {
            if (!(index < size)) throw new Error('leaf index ' + index + ' is not below the tree size ' + size);
            let fn = index, sn = size - 1, r = leaf;
            for (const p of path) {
              if (sn === 0) throw new Error('the audit path is too long');
              if (fn % 2 === 1 || fn === sn) {
                r = await nodeHash(p, r);
                while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
              } else {
                r = await nodeHash(r, p);
              }
              fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
            }
            if (sn !== 0) throw new Error('the audit path is too short');
            return r;
          }

          // Regulator: match results, the blacklist, access events, a lot's provenance; each row links to its proof.
          async function regulatorPage() {
            for (const r of await api('/v1/access/requests')) {
              addRow($('#matches'), [r.requestID.slice(0, 12) + '…', r.requester, r.lot, r.level, r.source, r.status, r.reason], r.resultLeaf ?? r.requestLeaf);
            }
            for (const b of await api('/v1/access/blacklist')) {
              addRow($('#blacklist'), [b.source, b.strikes, b.blockedUntil, b.permanent ? 'yes' : 'no', b.lastStrike], b.lastLeaf);
            }
            const events = async (method) => {
              clear($('#events'));
              for (const e of await api('/v1/access/events' + (method ? '?method=' + enc(method) : ''))) {
                addRow($('#events'), [e.leafIndex, e.time, e.submitter, e.method, e.subject, e.outcome], e.leafIndex);
              }
            };
            $('#events-form').addEventListener('submit', (event) => { event.preventDefault(); events($('#method').value.trim()).catch(showError); });
            $('#provenance-form').addEventListener('submit', (event) => { event.preventDefault(); provenance($('#provenance-lot').value.trim()).catch(showError); });
            const lot = new URLSearchParams(location.search).get('lot');
            if (lot) $('#provenance-lot').value = lot;
            await Promise.all([events(''), provenance(lot || '')]);
          }
          // Where a lot's private data went (redeem, transfer, read, revocation), each event with its proof.
          async function provenance(lot) {
            clear($('#provenance'));
            const status = $('#provenance-status');
            if (!lot) { status.textContent = 'Give a lot to see where its private data went.'; return; }
            status.textContent = 'loading…';
            const rows = await api('/v1/access/provenance?lot=' + enc(lot));
            for (const p of rows) {
              const row = addRow($('#provenance'), [p.leafIndex, p.time, p.kind, p.who, p.counterpart || null, p.level, p.status, p.detail], p.leafIndex);
              row.dataset.kind = p.kind;
              row.dataset.request = p.requestID;
            }
            status.textContent = rows.length ? rows.length + (rows.length === 1 ? ' event' : ' events') + ' for ' + lot : 'No redemption, transfer, read or revocation of ' + lot + ' on the ledger.';
          }

          // Owner: the signed-in principal's protected entries (the policies stay hidden), its grants
          // and the requests for its lots; revocations are signed here, in the browser, with the key
          // file the user picks (read locally, never sent): the server prepares and assembles.
          async function ownerPage() {
            $('#revoke-form').addEventListener('submit', (event) => { event.preventDefault(); revoke().catch(revokeFailed); });
            $('#revoke-cancel').addEventListener('click', () => { $('#revoke-form').hidden = true; });
            await ownerTables();
          }
          function revokeButton(kind, id, label) {
            const cell = element('td');
            const button = element('button', 'Revoke', { type: 'button', 'aria-label': 'Revoke ' + label, 'data-revoke': kind, 'data-id': id });
            button.addEventListener('click', () => askRevoke(kind, id, label));
            cell.appendChild(button);
            return cell;
          }
          async function ownerTables() {
            for (const table of ['#entries', '#grants', '#owner-requests']) clear($(table));
            const entries = await api('/v1/access/entries?owner=' + enc(session.principal));
            for (const e of entries) {
              const row = addRow($('#entries'), [e.dataID.slice(0, 12) + '…', e.lot, e.level, e.window, e.actions.join(', '), e.status], e.leafIndex);
              row.appendChild(e.status === 'active' ? revokeButton('policy', e.dataID, 'the policy entry ' + e.dataID.slice(0, 12) + ' of ' + e.lot) : element('td', null));
            }
            for (const g of await api('/v1/access/grants?owner=' + enc(session.principal))) {
              const row = addRow($('#grants'), [g.requestID.slice(0, 12) + '…', g.requester, g.lot, g.level, g.source, g.resultTime, g.revoked ? 'revoked' : 'active', g.transfers], false);
              row.dataset.request = g.requestID;
              row.appendChild(g.revoked ? element('td', null) : revokeButton('grant', g.requestID, 'the grant of ' + g.lot + ' to ' + g.requester));
            }
            const lots = new Set(entries.map((e) => e.lot));
            for (const r of await api('/v1/access/requests')) {
              if (lots.has(r.lot)) addRow($('#owner-requests'), [r.requestID.slice(0, 12) + '…', r.requester, r.lot, r.status], r.resultLeaf ?? r.requestLeaf);
            }
          }
          let revoking = null;
          function askRevoke(kind, id, label) {
            revoking = { kind, id };
            $('#revoke-what').textContent = 'Revoke ' + label + ': sign the revocation with your key.';
            $('#revoke-status').textContent = '';
            $('#revoke-form').hidden = false;
            $('#owner-key').focus();
          }
          async function post(path, body) {
            const response = await fetch(path, { method: 'POST', credentials: 'same-origin', body: JSON.stringify(body),
              headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': session.csrfToken } });
            const answer = await response.json().catch(() => ({}));
            if (!response.ok) throw new Error(answer.reason || path + ': HTTP ' + response.status);
            return answer;
          }
          // PKCS #8 wrapping of a raw 32-byte Ed25519 private key (RFC 8410), the form WebCrypto imports.
          const PKCS8_ED25519 = hex('302e020100300506032b657004220420');
          async function ownerKey() {
            const file = $('#owner-key').files[0];
            if (!file) throw new Error('choose your key file (the Ed25519 key from agritrace keygen)');
            const text = (await file.text()).trim();
            $('#owner-key').value = '';  // not kept in the page
            let seed;
            try { seed = hex(text); } catch (error) { seed = []; }
            if (seed.length !== 32) throw new Error(file.name + ' does not hold a 32-byte Ed25519 private key in hex (agritrace keygen writes one)');
            return crypto.subtle.importKey('pkcs8', concat(PKCS8_ED25519, seed), { name: 'Ed25519' }, false, ['sign']);
          }
          async function revoke() {
            const status = $('#revoke-status');
            if (!revoking) throw new Error('choose a grant or policy to revoke');
            const key = await ownerKey();
            status.textContent = 'preparing the transaction…';
            const prepared = await post('/console/owner/revocations', { kind: revoking.kind, id: revoking.id, reason: $('#revoke-reason').value });
            const signature = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key, hex(prepared.message)));
            status.textContent = 'signed here; submitting…';
            const { submission } = await post('/console/owner/revocations/signed', { transaction: prepared.transaction, signature: toHex(signature) });
            let state = { status: 'pending' };
            for (let i = 0; i < 300 && state.status === 'pending'; i++) {
              if (i) await new Promise((done) => setTimeout(done, 100));
              state = await api('/v1/submissions/' + submission);
            }
            status.textContent = '';
            if (state.status === 'applied') {
              const event = (await api('/v1/access/events?leaf=' + state.leafIndex))[0] || {};
              status.append(prepared.method + ' ' + (event.outcome || 'applied') + ': ledger leaf ' + state.leafIndex + ' ');
              status.appendChild(element('a', 'check its proof', { href: '/console/proof?leaf=' + state.leafIndex }));
            } else {
              status.textContent = prepared.method + ' ' + state.status + (state.reason ? ': ' + state.reason : ' (serve has not ordered it yet)');
            }
            status.dataset.outcome = state.status;
            $('#revoke-form').hidden = true;
            revoking = null;
            await ownerTables();
          }
          function revokeFailed(error) {
            $('#revoke-status').textContent = 'not revoked: ' + (error.message || error);
            $('#revoke-status').dataset.outcome = 'error';
          }

          async function signOut() {
            await fetch('/console/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': session.csrfToken } });
            location.assign('/console');
          }

          const pages = { ledger: ledgerPage, trace: tracePage, proof: proofPage, regulator: regulatorPage, owner: ownerPage };
          async function start() {
            session = await api('/console/session');
            $('#sign-out').addEventListener('click', () => signOut().catch(showError));
            await pages[document.body.dataset.page]();
            performance.mark('agritrace-ready');  // the page's data is drawn (scripts/bench-console.py reads it)
            document.body.dataset.ready = 'yes';
          }
          document.addEventListener('DOMContentLoaded', () => start().catch((error) => { showError(error); document.body.dataset.ready = 'error'; }));
        })();
        """#

    /// Readable at 360 px wide; visible focus for keyboard use.
    static let style = #"""
        :root { color-scheme: light; --ink: #1d2a1f; --accent: #2f6b3a; --line: #c9d6cb; --band: #f3f7f3; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.45 system-ui, sans-serif; color: var(--ink); background: #fff; }
        .skip { position: absolute; left: -999px; }
        .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; z-index: 2; }
        header { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 8px; padding: 8px 12px; background: var(--accent); color: #fff; }
        nav { display: flex; flex-wrap: wrap; gap: 4px 12px; }
        nav a, header .who { color: #fff; }
        nav a[aria-current="page"] { font-weight: 700; text-decoration: underline; }
        header .who { margin: 0; font-size: 14px; }
        main { max-width: 1100px; margin: 0 auto; padding: 12px; }
        h1 { margin: 4px 0 12px; font-size: 1.6rem; }
        h2 { font-size: 1.2rem; margin: 20px 0 8px; }
        a { color: var(--accent); }
        a:focus, button:focus, input:focus, textarea:focus, svg a:focus rect { outline: 3px solid #f0a500; outline-offset: 2px; }
        button { font: inherit; padding: 6px 12px; border: 1px solid var(--accent); background: #fff; color: var(--accent); border-radius: 4px; cursor: pointer; }
        header button { padding: 2px 8px; }
        button:disabled { opacity: 0.5; cursor: default; }
        label { display: block; font-weight: 600; margin: 8px 0 4px; }
        input, textarea { font: inherit; width: 100%; max-width: 640px; padding: 6px; border: 1px solid #889; border-radius: 4px; }
        textarea { font-family: ui-monospace, monospace; font-size: 13px; max-width: 100%; }
        form button { margin-top: 8px; }
        .scroll { overflow-x: auto; max-width: 100%; }
        table { border-collapse: collapse; width: 100%; font-size: 14px; }
        th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
        dt { font-weight: 600; }
        dd { margin: 0; overflow-wrap: anywhere; }
        #trace-graph { width: 100%; max-width: 720px; min-width: 320px; height: auto; border: 1px solid var(--line); }
        .band { fill: #fff; }
        .band.odd { fill: var(--band); }
        .lane-label { font-size: 13px; font-weight: 600; fill: var(--ink); }
        .node rect { fill: #e6f0e7; stroke: var(--accent); stroke-width: 1.5; }
        .node.focus rect { fill: #ffe8b0; }
        .node text { font-size: 12px; fill: var(--ink); }
        .edge { stroke: #667; stroke-width: 1.5; }
        .record { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 12px 0; }
        .record h3 { margin: 0 0 8px; text-transform: capitalize; }
        .fields { margin: 8px 0; }
        .fields caption { text-align: left; font-weight: 600; padding: 4px 0; }
        #proof-result.valid { color: #15692a; font-weight: 700; }
        #proof-result.invalid, #error { color: #a4161a; font-weight: 700; }
        @media (max-width: 480px) { body { font-size: 15px; } main { padding: 8px; } dl { grid-template-columns: 1fr; } }
        """#
}
