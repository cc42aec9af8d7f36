// A 3D skeleton viewer for momu motions (three.js): bones as tubes, a tiled floor, a camera that
// follows the dancer and turns by dragging. The frame shown is the one at the time the page
// gives (the <audio> element's currentTime), so the dance stays in sync with the music.
import * as THREE from '/vendor/three/three.module.js';

const LEFT = 0x4fc3f7;   // the colours of `momu render` (bones into left_* and right_* joints)
const RIGHT = 0xff8a65;
const MIDDLE = 0xe1e1e1;

export class SkeletonViewer {
  constructor(canvas) {
    this.canvas = canvas;
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(0x18181e);
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x404050, 2.2));
    const sun = new THREE.DirectionalLight(0xffffff, 1.2);
    sun.position.set(1, 2, 1.5);
    this.scene.add(sun);
    this.camera = new THREE.PerspectiveCamera(40, canvas.width / canvas.height, 1, 100000);
    this.azimuth = 0.0;     // radians about the up axis; 0: from the front (+z)
    this.elevation = 0.26;  // radians above the horizon
    this.zoom = 1.0;
    this.frame = -1;
    this.figure = null;
    this.onDrag();
    this.resize();
    window.addEventListener('resize', () => this.resize());
  }

  resize() {
    const w = this.canvas.clientWidth || this.canvas.width;
    const h = Math.round(w * 0.6);
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.draw();
  }

  onDrag() {
    let last = null;
    this.canvas.addEventListener('pointerdown', (e) => { last = [e.clientX, e.clientY]; this.canvas.setPointerCapture(e.pointerId); });
    this.canvas.addEventListener('pointerup', () => { last = null; });
    this.canvas.addEventListener('pointermove', (e) => {
      if (!last) return;
      this.azimuth -= (e.clientX - last[0]) * 0.01;
      this.elevation = Math.max(-0.2, Math.min(1.4, this.elevation + (e.clientY - last[1]) * 0.01));
      last = [e.clientX, e.clientY];
      this.draw();
    });
    this.canvas.addEventListener('wheel', (e) => {
      e.preventDefault();
      this.zoom = Math.max(0.3, Math.min(4, this.zoom * Math.exp(e.deltaY * 0.001)));
      this.draw();
    }, { passive: false });
  }

  // motion: a momu-motion document ({fps, joints: [T][J][3]}); skeleton: its full definition
  // (the job's result.skeleton: joint_names, virtual_joints, bones, up_axis, up_sign).
  load(motion, skeleton) {
    if (this.figure) this.scene.remove(this.figure);
    const J = skeleton.joint_names.length;
    const virtuals = skeleton.virtual_joints || [];
    const P = J + virtuals.length;
    const T = motion.joints.length;
    const up = skeleton.up_axis ?? 1;
    const sign = skeleton.up_sign ?? 1;
    // three.js is y up: a right-handed (x, y, z) with the skeleton's up axis as y.
    const axes = up === 2 ? [[0, 1], [2, sign], [1, -1]] : up === 0 ? [[1, 1], [0, sign], [2, 1]]
                                                                  : [[0, 1], [1, sign], [2, 1]];
    // Points of every frame, y up, virtual joints added: [T * P * 3].
    const pts = new Float32Array(T * P * 3);
    for (let t = 0; t < T; ++t) {
      const f = motion.joints[t];
      const at = (p) => (t * P + p) * 3;
      for (let j = 0; j < J; ++j) {
        for (let c = 0; c < 3; ++c) pts[at(j) + c] = axes[c][1] * f[j][axes[c][0]];
      }
      virtuals.forEach((v, k) => {
        for (let c = 0; c < 3; ++c) pts[at(J + k) + c] = 0.5 * (pts[at(v.a) + c] + pts[at(v.b) + c]);
      });
    }
    let lo = Infinity, hi = -Infinity;
    for (let i = 1; i < pts.length; i += 3) { lo = Math.min(lo, pts[i]); hi = Math.max(hi, pts[i]); }
    this.height = Math.max(hi - lo, 1e-3);
    this.floor = lo;
    this.points = pts;
    this.P = P;
    this.T = T;
    this.fps = motion.fps;
    this.root = skeleton.root ?? 0;
    this.track = this.smoothedRoot(1.0);

    const name = (p) => (p < J ? skeleton.joint_names[p] : virtuals[p - J].name);
    const radius = this.height * 0.018;
    this.figure = new THREE.Group();
    this.bones = skeleton.bones.map(([a, b]) => {
      const child = name(b);
      const color = child.startsWith('left') ? LEFT : child.startsWith('right') ? RIGHT : MIDDLE;
      const mesh = new THREE.Mesh(new THREE.CylinderGeometry(radius, radius, 1, 10),
                                  new THREE.MeshLambertMaterial({ color }));
      this.figure.add(mesh);
      return { a, b, mesh };
    });
    const head = [...Array(P).keys()].find((p) => ['head', 'nose'].includes(name(p)));
    this.head = null;
    if (head !== undefined) {
      this.head = { p: head, mesh: new THREE.Mesh(new THREE.SphereGeometry(this.height * 0.06, 20, 14),
                                                  new THREE.MeshLambertMaterial({ color: MIDDLE })) };
      this.figure.add(this.head.mesh);
    }
    // The floor: a tiled plane (a texture rather than GridHelper lines, which software WebGL
    // drops where they pass behind the camera), fading into the background with distance.
    this.tile = this.height / 2;
    const tiles = document.createElement('canvas');
    tiles.width = tiles.height = 256;
    const g = tiles.getContext('2d');
    g.fillStyle = '#202029';
    g.fillRect(0, 0, 256, 256);
    g.strokeStyle = '#4a4a5c';
    g.lineWidth = 3;
    g.strokeRect(0, 0, 256, 256);
    const texture = new THREE.CanvasTexture(tiles);
    texture.wrapS = texture.wrapT = THREE.RepeatWrapping;
    texture.repeat.set(48, 48);
    texture.anisotropy = this.renderer.capabilities.getMaxAnisotropy();
    texture.colorSpace = THREE.SRGBColorSpace;
    const grid = new THREE.Mesh(new THREE.PlaneGeometry(this.tile * 48, this.tile * 48),
                                new THREE.MeshBasicMaterial({ map: texture }));
    grid.rotation.x = -Math.PI / 2;
    grid.position.y = this.floor - 0.002 * this.height;
    this.grid = grid;
    this.figure.add(grid);
    this.scene.fog = new THREE.Fog(0x18181e, this.height * 4, this.height * 12);
    this.scene.add(this.figure);
    this.frame = -1;
    this.show(0);
  }

  // The root's horizontal path, smoothed (Gaussian, sigma seconds): the camera follows it.
  smoothedRoot(sigma) {
    const { T, P, points, root } = this;
    const out = new Float32Array(T * 2);
    const s = Math.max(1, sigma * this.fps);
    const r = Math.ceil(3 * s);
    for (let t = 0; t < T; ++t) {
      let x = 0, z = 0, w = 0;
      for (let u = Math.max(0, t - r); u <= Math.min(T - 1, t + r); ++u) {
        const k = Math.exp(-0.5 * ((u - t) / s) ** 2);
        x += k * points[(u * P + root) * 3];
        z += k * points[(u * P + root) * 3 + 2];
        w += k;
      }
      out[t * 2] = x / w;
      out[t * 2 + 1] = z / w;
    }
    return out;
  }

  // Shows the frame at `seconds` into the motion.
  show(seconds) {
    if (!this.figure) return;
    const frame = Math.max(0, Math.min(this.T - 1, Math.round(seconds * this.fps)));
    if (frame === this.frame) return;
    this.frame = frame;
    const base = frame * this.P * 3;
    const point = (p) => new THREE.Vector3(this.points[base + p * 3], this.points[base + p * 3 + 1],
                                           this.points[base + p * 3 + 2]);
    const yAxis = new THREE.Vector3(0, 1, 0);
    for (const bone of this.bones) {
      const a = point(bone.a), b = point(bone.b);
      const d = b.clone().sub(a);
      const len = Math.max(d.length(), 1e-6);
      bone.mesh.position.copy(a.clone().add(b).multiplyScalar(0.5));
      bone.mesh.quaternion.setFromUnitVectors(yAxis, d.divideScalar(len));
      bone.mesh.scale.set(1, len, 1);
    }
    if (this.head) this.head.mesh.position.copy(point(this.head.p));
    this.draw();
  }

  draw() {
    if (this.figure) {
      const t = Math.max(this.frame, 0);
      const target = new THREE.Vector3(this.track[t * 2], this.floor + this.height * 0.5, this.track[t * 2 + 1]);
      this.grid.position.x = Math.round(target.x / this.tile) * this.tile;  // tiles stay put
      this.grid.position.z = Math.round(target.z / this.tile) * this.tile;
      const distance = this.height * 2.6 * this.zoom;
      this.camera.position.set(
          target.x + distance * Math.cos(this.elevation) * Math.sin(this.azimuth),
          target.y + distance * Math.sin(this.elevation),
          target.z + distance * Math.cos(this.elevation) * Math.cos(this.azimuth));
      this.camera.lookAt(target);
    }
    this.renderer.render(this.scene, this.camera);
  }
}
