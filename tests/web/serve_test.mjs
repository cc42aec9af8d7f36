#!/usr/bin/env node
// The page of `momu serve` in headless Chromium (issue 18), end to end:
//   node tests/web/serve_test.mjs <path to momu> [--screenshot docs/img/serve.png]
// Starts `momu serve` on 127.0.0.1 (a free port, its own work folder), then
//  - the JSON API refuses bad requests with a 4xx and a message (empty file, a text file named
//    .wav, an upload over --max-upload-mb, an unknown type, a bad field, an unknown job, a foreign
//    Origin), and runs a short joint job;
//  - in Chromium (playwright-core from web/node_modules driving /usr/bin/chromium): uploads a 5 s
//    cut of a real song, waits for the dance, checks that the 3D viewer draws (a canvas
//    screenshot that is not blank, and another picture at another time of the music), that the
//    <audio> element plays, that the four downloads are valid files (RIFF, HIERARCHY, JSON, ftyp),
//    and that a bad file shows the server's message on the page;
//  - the server is alive afterwards and SIGTERM stops it with exit status 0, leaving no
//    temporaries.
// Exits 77 (ctest: skipped) with a message when playwright-core, Chromium, ffmpeg or a song is
// missing. Environment: MOMU_CHROMIUM (default /usr/bin/chromium), MOMU_SHARED_DIR (a Dance with
// Melody song when the titanion-data music is absent).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SKIP = 77;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${msg}`);
function skip(why) {
  console.log(`SKIPPED: ${why}`);
  process.exit(SKIP);
}
function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
  log(`ok: ${what}`);
}

const args = process.argv.slice(2);
const momu = args[0];
const shotAt = args.indexOf('--screenshot');
const screenshot = shotAt >= 0 ? path.resolve(args[shotAt + 1]) : null;
if (!momu || !fs.existsSync(momu)) {
  console.error('usage: node tests/web/serve_test.mjs <path to momu> [--screenshot out.png]');
  process.exit(2);
}

let chromium;
try {
  chromium = createRequire(path.join(repo, 'web', 'package.json'))('playwright-core').chromium;
} catch {
  skip('playwright-core is not installed (npm ci --prefix web; scripts/setup.sh does it)');
}
const browserPath = process.env.MOMU_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(browserPath)) skip(`no Chromium at ${browserPath} (Debian package chromium)`);
try {
  execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
} catch {
  skip('the ffmpeg program is not installed (Debian package ffmpeg)');
}
function findSong() {
  const titanion = '/usr/share/games/titanion/sounds/musics/ttn1.ogg';
  if (fs.existsSync(titanion)) return { file: titanion, start: 20 };
  const dwm = path.join(process.env.MOMU_SHARED_DIR || path.join(repo, '..', 'shared'), 'data',
                        'dance-with-melody');
  if (fs.existsSync(dwm)) {
    for (const d of fs.readdirSync(dwm).sort()) {
      const mp3 = path.join(dwm, d, 'audio.mp3');
      if (fs.existsSync(mp3)) return { file: mp3, start: 30 };
    }
  }
  return null;
}
const source = findSong();
if (!source) skip('no song: neither titanion-data (ttn1.ogg) nor a Dance with Melody audio.mp3');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'momu-web-test-'));
const workDir = path.join(tmp, 'work');
const song = path.join(tmp, 'song.ogg');
execFileSync('ffmpeg', ['-v', 'error', '-y', '-ss', String(source.start), '-t', '5', '-i', source.file,
                        '-ac', '2', '-ar', '44100', '-c:a', 'libvorbis', song]);
log(`a 5 s cut of ${source.file} (${fs.statSync(song).size} bytes)`);

// --- the server ---------------------------------------------------------------------------
const server = spawn(momu, ['serve', '--port', '0', '--work-dir', workDir, '--max-upload-mb', '1',
                            '--workers', '2'],
                     { stdio: ['ignore', 'pipe', 'pipe'],
                       env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' } });
let serverLog = '';
server.stderr.on('data', (d) => { serverLog += d; });
let exited = null;
const exitPromise = new Promise((resolve) => server.on('exit', (code, signal) => {
  exited = { code, signal };
  resolve(exited);
}));
const url = await new Promise((resolve, reject) => {
  let out = '';
  const timer = setTimeout(() => reject(new Error('momu serve did not start in 90 s')), 90000);
  server.stdout.on('data', (d) => {
    out += d;
    const nl = out.indexOf('\n');
    if (nl >= 0) {
      clearTimeout(timer);
      resolve(JSON.parse(out.slice(0, nl)).url);
    }
  });
  server.on('exit', () => reject(new Error(`momu serve exited:\n${serverLog}`)));
});
log(`momu serve listens on ${url}`);
const api = (p) => new URL(p, url).toString();

async function post(fields, file) {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.set(k, String(v));
  if (file) body.set('file', new Blob([file.bytes]), file.name);
  const r = await fetch(api('/api/jobs'), { method: 'POST', body });
  return { status: r.status, json: await r.json() };
}
async function waitJob(id, seconds) {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    const job = await (await fetch(api(`/api/jobs/${id}`))).json();
    if (!['queued', 'running'].includes(job.state)) return job;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`job ${id} did not finish in ${seconds} s`);
}
// A request with any headers (fetch may not set Origin or Host).
function rawGet(p, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get(api(p), { headers }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(body) }));
    });
    req.on('error', reject);
  });
}

let browser = null;
let failed = false;
try {
  const health = await (await fetch(api('/api/health'))).json();
  check(health.status === 'ok' && health.tasks.includes('music2motion'), 'GET /api/health');

  // --- bad requests: a 4xx and a message each ---------------------------------------------
  let r = await post({}, { name: 'empty.wav', bytes: new Uint8Array(0) });
  check(r.status === 422 && /empty/.test(r.json.error), `empty file: ${r.status} ${r.json.error}`);
  r = await post({}, { name: 'notes.wav', bytes: new TextEncoder().encode('these are my notes\n'.repeat(20)) });
  check(r.status === 422 && r.json.error.includes('notes.wav') && !r.json.error.includes(workDir),
        `a text file named .wav: ${r.status} ${r.json.error}`);
  r = await post({}, { name: 'big.wav', bytes: new Uint8Array(1536 * 1024) });
  check(r.status === 413 && /larger/.test(r.json.error), `1.5 MiB over a 1 MiB limit: ${r.status} ${r.json.error}`);
  r = await post({}, { name: 'notes.txt', bytes: new TextEncoder().encode('hello') });
  check(r.status === 415 && r.json.error, `a .txt file: ${r.status} ${r.json.error}`);
  r = await post({ task: 'joint', seconds: 3, steps: 'many' });
  check(r.status === 400 && /steps/.test(r.json.error), `steps=many: ${r.status} ${r.json.error}`);
  r = await post({ task: 'joint', seconds: 3, steps: 100000 });
  check(r.status === 400 && r.json.error, `steps=100000: ${r.status} ${r.json.error}`);
  r = await rawGet('/api/jobs/0123456789abcdef');
  check(r.status === 404 && r.json.error, `unknown job: ${r.status} ${r.json.error}`);
  r = await rawGet('/api/jobs/..%2F..%2Fetc/files/music.wav');
  check(r.status === 404 && r.json.error, `a path in the job id: ${r.status}`);
  r = await rawGet('/api/health', { Origin: 'http://evil.example' });
  check(r.status === 403 && r.json.error, `a foreign Origin: ${r.status} ${r.json.error}`);
  r = await rawGet('/api/health', { Host: 'evil.example:80' });
  check(r.status === 403, `a foreign Host: ${r.status}`);

  // --- a short joint job through the API --------------------------------------------------
  r = await post({ task: 'joint', seconds: 3, bpm: 100, steps: 4, preview: 0 });
  check(r.status === 202 && r.json.id, `POST joint: ${r.status} job ${r.json.id}`);
  const joint = await waitJob(r.json.id, 90);
  check(joint.state === 'done' && !joint.result.files['preview.mp4'] &&
        Math.abs(joint.result.seconds - 3) < 0.1, `joint job: ${joint.state} ${joint.error || ''}`);

  // --- the page in Chromium ---------------------------------------------------------------
  browser = await chromium.launch({
    executablePath: browserPath,
    args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--use-angle=swiftshader',
           '--enable-unsafe-swiftshader', '--mute-audio'],
  });
  const page = await browser.newPage({ viewport: { width: 880, height: 1000 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // Script errors; the browser's own "Failed to load resource" lines are the refused uploads.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
  await page.goto(url);
  check((await page.title()).startsWith('momu'), 'the page loads');
  await page.setInputFiles('#file', song);
  await page.click('details > summary');  // the sampler fold
  await page.fill('#steps', '6');
  await page.click('#go');
  await page.waitForFunction(() => ['done', 'failed'].includes(document.body.dataset.state), null,
                             { timeout: 150000 });
  const state = await page.evaluate(() => [document.body.dataset.state, document.getElementById('status').textContent]);
  check(state[0] === 'done', `the page's job: ${state.join(': ')}`);

  // The viewer draws: a canvas picture that is not blank, and another at another time.
  const stats = (png) => page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let sum = 0, sum2 = 0;
    const colors = new Set();
    for (let i = 0; i < d.length; i += 4) {
      const v = (d[i] + d[i + 1] + d[i + 2]) / 3;
      sum += v;
      sum2 += v * v;
      colors.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    }
    const n = d.length / 4;
    return { variance: sum2 / n - (sum / n) ** 2, colors: colors.size, pixels: Array.from(d.filter((_, i) => i % 16 === 0)) };
  }, png.toString('base64'));
  const seek = (t) => page.evaluate(async (t) => {
    const a = document.getElementById('audio');
    if (a.readyState < 1) await new Promise((r) => a.addEventListener('loadedmetadata', r, { once: true }));
    a.currentTime = t;
    await new Promise((r) => a.addEventListener('seeked', r, { once: true }));
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const v = window.momu.viewer;
    return { frame: v.frame, expected: Math.round(a.currentTime * v.fps) };
  }, t);
  const at1 = await seek(1.0);
  check(Math.abs(at1.frame - at1.expected) <= 1, `the viewer shows the music's frame (${at1.frame} at 1 s)`);
  const shot1 = await stats(await page.locator('#viewer').screenshot());
  check(shot1.variance > 20 && shot1.colors > 20,
        `the canvas is not blank (variance ${shot1.variance.toFixed(1)}, ${shot1.colors} colours)`);
  const at2 = await seek(3.5);
  const shot2 = await stats(await page.locator('#viewer').screenshot());
  let differ = 0;
  for (let i = 0; i < shot1.pixels.length; ++i) differ += shot1.pixels[i] !== shot2.pixels[i];
  check(at2.frame > at1.frame && differ > 50, `the dance moves (frame ${at2.frame} at 3.5 s; ${differ} samples differ)`);

  // The audio element plays (muted autoplay).
  const audio = await page.evaluate(async () => {
    const a = document.getElementById('audio');
    a.muted = true;
    a.currentTime = 0;
    await a.play();
    await new Promise((r) => setTimeout(r, 600));
    const out = { readyState: a.readyState, duration: a.duration, time: a.currentTime, paused: a.paused };
    a.pause();
    return out;
  });
  check(audio.readyState >= 2 && Math.abs(audio.duration - 5) < 0.2 && audio.time > 0 && !audio.paused,
        `the audio plays (duration ${audio.duration.toFixed(2)} s, at ${audio.time.toFixed(2)} s)`);

  // The downloads are valid files.
  const links = await page.$$eval('#downloads a:not([hidden])', (as) => as.map((a) => [a.dataset.file, a.href]));
  check(links.length === 4, `four download links (${links.map((l) => l[0]).join(', ')})`);
  for (const [name, href] of links) {
    const res = await fetch(href);
    const bytes = Buffer.from(await res.arrayBuffer());
    const ascii = (a, b) => bytes.subarray(a, b).toString('latin1');
    const valid = {
      'music.wav': () => ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE',
      'motion.bvh': () => ascii(0, 9) === 'HIERARCHY',
      'motion.json': () => JSON.parse(bytes.toString('utf8')).joints.length === 150,
      'preview.mp4': () => ascii(4, 8) === 'ftyp',
    }[name];
    check(res.status === 200 && valid && valid(), `${name}: ${bytes.length} bytes, valid`);
  }

  if (screenshot) {
    await seek(2.2);
    await page.evaluate(() => window.scrollTo(0, 0));
    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    const raw = path.join(tmp, 'page.png');
    await page.screenshot({ path: raw, fullPage: true });
    // 128 colours (a paletted PNG a third the size; the page has few colours).
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', raw, '-vf',
                            'split[a][b];[a]palettegen=max_colors=128:stats_mode=full[p];[b][p]paletteuse=dither=none',
                            '-pix_fmt', 'pal8', screenshot]);
    log(`screenshot: ${screenshot} (${fs.statSync(screenshot).size} bytes)`);
  }

  // A bad file on the page: the server's message is shown.
  const bad = path.join(tmp, 'not-music.mp3');
  fs.writeFileSync(bad, 'not music at all\n'.repeat(10));
  await page.setInputFiles('#file', bad);
  await page.click('#go');
  await page.waitForFunction(() => ['done', 'failed'].includes(document.body.dataset.state), null,
                             { timeout: 30000 });
  const badState = await page.evaluate(() => [document.body.dataset.state, document.getElementById('status').textContent]);
  check(badState[0] === 'failed' && badState[1].includes('not-music.mp3'), `a bad file on the page: ${badState[1]}`);
  check(pageErrors.length === 0, `no errors in the page (${pageErrors.join('; ')})`);
  await browser.close();
  browser = null;

  // Still alive, and a clean stop.
  check((await fetch(api('/api/health'))).status === 200, 'the server is alive after all that');
  server.kill('SIGTERM');
  const timeout = new Promise((r) => setTimeout(() => r(null), 20000));
  const end = await Promise.race([exitPromise, timeout]);
  check(end && end.code === 0, `SIGTERM: a clean stop (${JSON.stringify(end)})`);
  const leftovers = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (/\.tmp-|\.writing-/.test(e.name)) leftovers.push(path.join(d, e.name));
      if (e.isDirectory()) walk(path.join(d, e.name));
    }
  };
  walk(workDir);
  check(leftovers.length === 0, `no temporaries in the work folder (${leftovers.join(', ')})`);
  log('PASSED');
} catch (e) {
  failed = true;
  console.error(`FAILED: ${e.stack || e}`);
  console.error(`--- momu serve stderr ---\n${serverLog}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  if (!exited) server.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
