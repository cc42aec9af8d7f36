// The page of `momu serve`: posts a job (a song, a motion, or joint settings) to the JSON API,
// shows its progress, then the dance in the 3D viewer in sync with the music, and the downloads.
// document.body.dataset.state says where it is (idle, posting, running, done, failed): the
// browser test (tests/web/serve_test.mjs) waits on it.
import { SkeletonViewer } from '/viewer.js';

const $ = (id) => document.getElementById(id);
const form = $('form');
const fileInput = $('file');
const drop = $('drop');
const status = $('status');
const progress = $('progress');
const audio = $('audio');
let viewer = null;
let chosen = null;  // the File to upload

const kinds = {
  music2motion: { accept: '.wav,.flac,.ogg,.oga,.opus,.mp3,.aiff,.aif',
                  text: 'Drop a song here (WAV, FLAC, OGG, MP3) or click to choose one' },
  motion2music: { accept: '.json,.npy,.bvh',
                  text: 'Drop a dance here (momu or Dance with Melody JSON, NPY, BVH) or click to choose one' },
};
const musicExt = /\.(wav|flac|ogg|oga|opus|mp3|aiff?)$/i;
const motionExt = /\.(json|npy|bvh)$/i;

function task() { return form.elements.task.value; }

function setTask(t) {
  form.elements.task.value = t;
  const joint = t === 'joint';
  drop.hidden = joint;
  $('joint-fields').hidden = !joint;
  if (!joint) {
    fileInput.accept = kinds[t].accept;
    $('drop-text').textContent = kinds[t].text;
  }
}

function choose(file) {
  chosen = file || null;
  $('file-name').textContent = chosen ? chosen.name : '';
  if (chosen && musicExt.test(chosen.name)) setTask('music2motion');
  else if (chosen && motionExt.test(chosen.name)) setTask('motion2music');
}

function setState(state, message, isError = false) {
  document.body.dataset.state = state;
  status.textContent = message;
  status.classList.toggle('error', isError);
  $('go').disabled = state === 'posting' || state === 'running';
}

form.addEventListener('change', (e) => { if (e.target.name === 'task') setTask(task()); });
fileInput.addEventListener('change', () => choose(fileInput.files[0]));
for (const ev of ['dragenter', 'dragover']) {
  drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('over'); });
}
for (const ev of ['dragleave', 'drop']) {
  drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.remove('over'); });
}
drop.addEventListener('drop', (e) => { if (e.dataTransfer.files.length) choose(e.dataTransfer.files[0]); });

function describe(job) {
  const p = job.progress || {};
  if (job.state === 'queued') return `Waiting: ${job.queue_position} job(s) ahead`;
  const names = { generate: 'Generating', files: 'Writing files', preview: 'Rendering the preview' };
  const count = p.total > 0 ? ` ${p.done}/${p.total}` : '';
  return `${names[p.stage] || 'Working'}${count} (${Math.round(100 * (job.fraction || 0))} %)`;
}

async function poll(url) {
  for (;;) {
    const r = await fetch(url, { cache: 'no-store' });
    const job = await r.json();
    if (!r.ok) throw new Error(job.error || `HTTP ${r.status}`);
    progress.value = job.fraction || 0;
    if (job.state === 'done') return job;
    if (job.state === 'failed' || job.state === 'cancelled') throw new Error(job.error || job.state);
    setState('running', describe(job));
    await new Promise((done) => setTimeout(done, 400));
  }
}

async function show(job) {
  const files = job.result.files;
  const motion = await (await fetch(files['motion.json'])).json();
  $('result').hidden = false;
  if (!viewer) viewer = new SkeletonViewer($('viewer'));
  viewer.load(motion, job.result.skeleton);
  audio.src = files['music.wav'];
  audio.load();
  for (const a of document.querySelectorAll('#downloads a')) {
    const url = files[a.dataset.file];
    a.hidden = !url;
    if (url) {
      a.href = url;
      a.download = `momu-${a.dataset.file}`;
    }
  }
  const r = job.result;
  const tempo = r.clock ? `, beat clock ${r.clock.tempo_bpm.toFixed(1)} BPM` : '';
  $('summary').textContent = `${r.task}: ${r.seconds.toFixed(1)} s, ${r.frames} frames at ${r.fps} fps` +
      `${tempo}; generated in ${r.timings_s.total.toFixed(1)} s (${r.sampler.sampler}, ${r.sampler.steps} steps).`;
  window.momu.job = job;
}

// The viewer follows the music player, frame by frame.
function tick() {
  if (viewer) viewer.show(audio.currentTime || 0);
  requestAnimationFrame(tick);
}
requestAnimationFrame(tick);

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const t = task();
  const body = new FormData();
  body.set('task', t);
  if (t !== 'joint') {
    if (!chosen) { setState('failed', 'Choose a file first.', true); return; }
    body.set('file', chosen, chosen.name);
  } else {
    body.set('seconds', $('seconds').value);
    if ($('bpm').value) body.set('bpm', $('bpm').value);
  }
  if ($('steps').value) body.set('steps', $('steps').value);
  if ($('seed').value) body.set('seed', $('seed').value);
  body.set('preview', $('preview').checked ? '1' : '0');
  progress.value = 0;
  setState('posting', 'Uploading...');
  try {
    const r = await fetch('/api/jobs', { method: 'POST', body });
    const job = await r.json().catch(() => ({ error: `HTTP ${r.status}` }));
    if (!r.ok) throw new Error(job.error || `HTTP ${r.status}`);
    window.momu.jobId = job.id;
    const done = await poll(`/api/jobs/${job.id}`);
    await show(done);
    progress.value = 1;
    setState('done', 'Done: press play.');
  } catch (err) {
    setState('failed', String(err.message || err), true);
  }
});

window.momu = { get viewer() { return viewer; }, audio, job: null, jobId: null };
setTask(task());
