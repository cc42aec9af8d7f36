// StickFigureRenderer: camera, framing over the whole clip, and cairo drawing of one frame.
#include "render/stick_figure.h"

#include <cairo.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "momu/core/error.h"
#include "momu/motion/resample.h"

namespace momu {

namespace {

using Vec3 = std::array<double, 3>;


Vec3 operator+(const Vec3& a, const Vec3& b) { return {a[0] + b[0], a[1] + b[1], a[2] + b[2]}; }
Vec3 operator-(const Vec3& a, const Vec3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
Vec3 operator*(double s, const Vec3& a) { return {s * a[0], s * a[1], s * a[2]}; }
double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
Vec3 axis(int i, double sign = 1.0) {
  Vec3 v{0, 0, 0};
  v[i] = sign;
  return v;
}

// 1, 2 or 5 times a power of ten, near x.
double floor_grid_step(double x) {
  if (!(x > 0.0)) return 1.0;
  const double p = std::pow(10.0, std::floor(std::log10(x)));
  const double m = x / p;
  return (m < 1.5 ? 1.0 : m < 3.5 ? 2.0 : m < 7.5 ? 5.0 : 10.0) * p;
}

// Which side a joint name is on: -1 left, +1 right, 0 neither.
int side_of(const std::string& name) {
  auto starts = [&](const char* prefix) { return name.rfind(prefix, 0) == 0; };
  if (starts("left") || starts("l_") || starts("Left") || starts("L_")) return -1;
  if (starts("right") || starts("r_") || starts("Right") || starts("R_")) return 1;
  return 0;
}

struct Bounds {
  double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
  void add(double x, double y) {
    x0 = std::min(x0, x);
    x1 = std::max(x1, x);
    y0 = std::min(y0, y);
    y1 = std::max(y1, y);
  }
  bool empty() const { return !(x0 <= x1); }
};

// Gaussian smoothing along time with edges held. x: [N] per component.
std::vector<Vec3> smooth(const std::vector<Vec3>& x, double sigma) {
  if (!(sigma > 1e-6) || x.size() < 2) return x;
  const int radius = static_cast<int>(std::ceil(3.0 * sigma));
  std::vector<double> w(2 * radius + 1);
  for (int i = -radius; i <= radius; ++i) w[i + radius] = std::exp(-0.5 * i * i / (sigma * sigma));
  const auto n = static_cast<int64_t>(x.size());
  std::vector<Vec3> out(x.size());
  for (int64_t k = 0; k < n; ++k) {
    Vec3 acc{0, 0, 0};
    double total = 0.0;
    for (int i = -radius; i <= radius; ++i) {
      const int64_t t = std::clamp<int64_t>(k + i, 0, n - 1);
      acc = acc + w[i + radius] * x[t];
      total += w[i + radius];
    }
    out[k] = (1.0 / total) * acc;
  }
  return out;
}

}  // namespace

Rgb RgbImage::at(int x, int y) const {
  if (x < 0 || y < 0 || x >= width || y >= height) {
    throw ShapeError("RgbImage::at: pixel (" + std::to_string(x) + ", " + std::to_string(y) +
                     ") is outside the " + std::to_string(width) + "x" + std::to_string(height) +
                     " image");
  }
  const size_t i = (static_cast<size_t>(y) * width + x) * 3;
  return Rgb{pixels[i], pixels[i + 1], pixels[i + 2]};
}

struct StickFigureRenderer::Impl {
  RenderConfig config;
  Skeleton skeleton;
  double fps = 0.0;
  int64_t frames = 0;
  int points = 0;  // P = real + virtual joints
  bool is3d = true;

  // Per frame and point: world position [N, P, 3] (2D: z = 0) and visibility [N, P].
  std::vector<Vec3> world;
  std::vector<uint8_t> seen;

  // Camera: basis in world coordinates (right, up, towards the camera), per-frame target.
  Vec3 cam_right{1, 0, 0}, cam_up{0, 1, 0}, cam_back{0, 0, 1};
  std::vector<Vec3> target;
  bool perspective = false;
  double distance = 1.0;  // perspective: camera distance from the target
  // Framing: screen = (W/2 + scale (x - cx), H/2 - scale (y - cy)) of the projected (x, y).
  double scale = 1.0, cx = 0.0, cy = 0.0;

  std::vector<std::pair<Vec3, Vec3>> floor_lines;  // world segments
  std::vector<Rgb> bone_colour;
  int head_point = -1;
  double head_radius_world = 0.0;

  cairo_surface_t* surface = nullptr;
  cairo_t* cr = nullptr;

  ~Impl() {
    if (cr) cairo_destroy(cr);
    if (surface) cairo_surface_destroy(surface);
  }

  const Vec3& at(int64_t k, int p) const { return world[k * points + p]; }
  bool is_seen(int64_t k, int p) const { return seen[k * points + p] != 0; }

  // Camera coordinates {x right, y up, z towards the camera} relative to the frame's target.
  Vec3 camera(const Vec3& w, int64_t k) const {
    const Vec3 rel = w - target[k];
    return {dot(rel, cam_right), dot(rel, cam_up), dot(rel, cam_back)};
  }
  // Projected (x, y) before framing.
  std::array<double, 2> projected(const Vec3& c) const {
    const double f = perspective ? distance / (distance - c[2]) : 1.0;
    return {c[0] * f, c[1] * f};
  }
  std::array<double, 2> screen(const Vec3& c) const {
    const auto p = projected(c);
    return {config.width * 0.5 + scale * (p[0] - cx), config.height * 0.5 - scale * (p[1] - cy)};
  }

  void load(const Motion& motion);
  void set_camera();
  void frame_the_clip();
  void build_floor();
  void choose_styles();
  void draw(int64_t k);
  void draw_floor(int64_t k);
};

void StickFigureRenderer::Impl::load(const Motion& source) {
  skeleton = source.skeleton;
  fps = config.video_fps(source.fps);
  frames = duration_frames(source.num_frames(), source.fps, fps);
  Motion m = std::abs(fps - source.fps) < 1e-9 && frames == source.num_frames()
                 ? source
                 : resample_motion(source, fps, frames);
  is3d = skeleton.dim == 3;
  points = skeleton.num_points();
  auto pts = with_virtual_joints(m.joints, skeleton).to(torch::kFloat64).contiguous();
  const double* data = pts.data_ptr<double>();
  const int D = skeleton.dim;
  world.assign(frames * points, Vec3{0, 0, 0});
  for (int64_t i = 0; i < frames * points; ++i) {
    for (int d = 0; d < D; ++d) world[i][d] = data[i * D + d];
  }
  seen.assign(frames * points, 1);
  if (m.confidence.defined()) {
    auto conf = m.confidence.to(torch::kFloat64).contiguous();
    const double* c = conf.data_ptr<double>();
    const int J = skeleton.num_joints();
    for (int64_t k = 0; k < frames; ++k) {
      for (int p = 0; p < points; ++p) {
        double v;
        if (p < J) {
          v = c[k * J + p];
        } else {
          const auto& vj = skeleton.virtual_joints[p - J];
          v = std::min(c[k * J + vj.a], c[k * J + vj.b]);
        }
        seen[k * points + p] = v >= config.min_confidence;
      }
    }
  }
}

void StickFigureRenderer::Impl::set_camera() {
  const int u = skeleton.up_axis;
  if (!is3d) {
    // Image keypoints: x along the other axis, y up (flipped back to y down on screen).
    cam_right = axis(1 - u);
    cam_up = axis(u, skeleton.up_sign);
    cam_back = axis(2);
    perspective = false;
    return;
  }
  const Vec3 up = axis(u, skeleton.up_sign);
  const Vec3 right = axis(u == 0 ? 1 : 0);
  const Vec3 back = cross(right, up);  // right, up, back: right-handed
  const double az = config.azimuth_deg * M_PI / 180.0;
  const double el = config.elevation_deg * M_PI / 180.0;
  cam_back = std::cos(el) * (std::cos(az) * back + std::sin(az) * right) + std::sin(el) * up;
  cam_right = std::cos(az) * right - std::sin(az) * back;
  cam_up = cross(cam_back, cam_right);
  perspective = config.projection == Projection::kPerspective;
}

void StickFigureRenderer::Impl::build_floor() {
  floor_lines.clear();
  if (!is3d || !config.draw_floor) return;
  const Vec3 up = axis(skeleton.up_axis, skeleton.up_sign);
  const Vec3 right = axis(skeleton.up_axis == 0 ? 1 : 0);
  const Vec3 back = cross(right, up);
  // Floor at the lowest foot (any joint when the skeleton names no feet) over the clip.
  std::vector<int> feet = skeleton.foot_joints;
  if (feet.empty()) {
    for (int p = 0; p < points; ++p) feet.push_back(p);
  }
  double floor_h = INFINITY, top_h = -INFINITY;
  Bounds extent;  // along right and back
  for (int64_t k = 0; k < frames; ++k) {
    for (int p = 0; p < points; ++p) {
      if (!is_seen(k, p)) continue;
      const Vec3& w = at(k, p);
      extent.add(dot(w, right), dot(w, back));
      top_h = std::max(top_h, dot(w, up));
    }
    for (int p : feet) {
      if (is_seen(k, p)) floor_h = std::min(floor_h, dot(at(k, p), up));
    }
  }
  if (extent.empty() || !std::isfinite(floor_h)) return;
  const double size = std::max({extent.x1 - extent.x0, extent.y1 - extent.y0, top_h - floor_h});
  const double step = floor_grid_step(size / 6.0);
  const double a0 = std::floor((extent.x0 - 0.5 * step) / step) * step;
  const double a1 = std::ceil((extent.x1 + 0.5 * step) / step) * step;
  const double b0 = std::floor((extent.y0 - 0.5 * step) / step) * step;
  const double b1 = std::ceil((extent.y1 + 0.5 * step) / step) * step;
  auto point = [&](double a, double b) { return a * right + b * back + floor_h * up; };
  for (double a = a0; a <= a1 + 0.5 * step; a += step) {
    floor_lines.emplace_back(point(a, b0), point(a, b1));
  }
  for (double b = b0; b <= b1 + 0.5 * step; b += step) {
    floor_lines.emplace_back(point(a0, b), point(a1, b));
  }
}

void StickFigureRenderer::Impl::frame_the_clip() {
  // Targets: the centre of the clip's bounding box, or (follow) the smoothed root path at the
  // box's mid height.
  Vec3 lo{INFINITY, INFINITY, INFINITY}, hi{-INFINITY, -INFINITY, -INFINITY};
  for (int64_t k = 0; k < frames; ++k) {
    for (int p = 0; p < points; ++p) {
      if (!is_seen(k, p)) continue;
      for (int d = 0; d < 3; ++d) {
        lo[d] = std::min(lo[d], at(k, p)[d]);
        hi[d] = std::max(hi[d], at(k, p)[d]);
      }
    }
  }
  if (!(lo[0] <= hi[0])) {
    throw FormatError("render: no joint is visible in any frame (confidence below " +
                      std::to_string(config.min_confidence) + " everywhere)");
  }
  const Vec3 centre = 0.5 * (lo + hi);
  target.assign(frames, centre);
  if (config.framing == Framing::kFollow) {
    const Vec3 up = is3d ? axis(skeleton.up_axis, skeleton.up_sign) : cam_up;
    std::vector<Vec3> root(frames);
    for (int64_t k = 0; k < frames; ++k) {
      root[k] = is_seen(k, skeleton.root) ? at(k, skeleton.root) : (k > 0 ? root[k - 1] : centre);
    }
    root = smooth(root, config.follow_smoothing_s * fps);
    for (int64_t k = 0; k < frames; ++k) {
      target[k] = root[k] - dot(root[k], up) * up + dot(centre, up) * up;
    }
  }

  // Perspective: the camera stands far enough that every joint is in front of it (the floor
  // grid is not framed: it is cut at the picture's edges and in front of the camera).
  double radius = 0.0;
  for (int64_t k = 0; k < frames; ++k) {
    for (int p = 0; p < points; ++p) {
      if (!is_seen(k, p)) continue;
      const Vec3 d = at(k, p) - target[k];
      radius = std::max(radius, std::sqrt(dot(d, d)));
    }
  }
  if (!(radius > 0.0)) radius = 1.0;
  distance = radius / std::sin(0.5 * config.fov_deg * M_PI / 180.0);

  Bounds box;
  for (int64_t k = 0; k < frames; ++k) {
    for (int p = 0; p < points; ++p) {
      if (!is_seen(k, p)) continue;
      const auto q = projected(camera(at(k, p), k));
      box.add(q[0], q[1]);
    }
  }
  const double usable_w = config.width * (1.0 - 2.0 * config.margin);
  const double usable_h = config.height * (1.0 - 2.0 * config.margin);
  const double bw = box.x1 - box.x0, bh = box.y1 - box.y0;
  scale = std::min(bw > 1e-12 ? usable_w / bw : INFINITY, bh > 1e-12 ? usable_h / bh : INFINITY);
  if (!std::isfinite(scale)) scale = 1.0;  // a single still point
  cx = 0.5 * (box.x0 + box.x1);
  cy = 0.5 * (box.y0 + box.y1);
}

void StickFigureRenderer::Impl::choose_styles() {
  bone_colour.clear();
  for (const auto& [a, b] : skeleton.bones) {
    int side = config.color_sides ? side_of(skeleton.point_name(b)) : 0;
    if (config.color_sides && side == 0) side = side_of(skeleton.point_name(a));
    bone_colour.push_back(side < 0 ? config.left : side > 0 ? config.right : config.bone);
  }
  head_point = skeleton.find_point("head");
  if (head_point < 0) head_point = skeleton.find_point("nose");
  if (head_point < 0) return;
  // Head size: half the mean length of the bone that reaches the head.
  for (const auto& [a, b] : skeleton.bones) {
    if (b != head_point && a != head_point) continue;
    double sum = 0.0;
    int64_t n = 0;
    for (int64_t k = 0; k < frames; ++k) {
      if (!is_seen(k, a) || !is_seen(k, b)) continue;
      const Vec3 d = at(k, b) - at(k, a);
      sum += std::sqrt(dot(d, d));
      ++n;
    }
    if (n > 0) head_radius_world = 0.5 * sum / n;
    break;
  }
}

void StickFigureRenderer::Impl::draw_floor(int64_t k) {
  cairo_set_line_width(cr, 1.0);
  const Rgb& c = config.floor;
  cairo_set_source_rgb(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0);
  const double near = perspective ? distance * 0.05 : -INFINITY;
  for (const auto& [a, b] : floor_lines) {
    Vec3 ca = camera(a, k), cb = camera(b, k);
    // Keep the part in front of the camera: depth from the camera is distance - z.
    const double da = distance - ca[2], db = distance - cb[2];
    if (da < near && db < near) continue;
    if (da < near || db < near) {
      const double t = (near - da) / (db - da);
      const Vec3 cut = ca + t * (cb - ca);
      (da < near ? ca : cb) = cut;
    }
    const auto sa = screen(ca), sb = screen(cb);
    cairo_move_to(cr, sa[0], sa[1]);
    cairo_line_to(cr, sb[0], sb[1]);
  }
  cairo_stroke(cr);
}

void StickFigureRenderer::Impl::draw(int64_t k) {
  if (k < 0 || k >= frames) {
    throw ShapeError("render: frame " + std::to_string(k) + " out of range [0, " +
                     std::to_string(frames) + ")");
  }
  const Rgb& bg = config.background;
  cairo_set_source_rgb(cr, bg.r / 255.0, bg.g / 255.0, bg.b / 255.0);
  cairo_paint(cr);
  if (!floor_lines.empty()) draw_floor(k);

  // Far to near (2D: in bone order); the head as one more element.
  std::vector<Vec3> cam(points);
  std::vector<std::array<double, 2>> scr(points);
  for (int p = 0; p < points; ++p) {
    cam[p] = camera(at(k, p), k);
    scr[p] = screen(cam[p]);
  }
  struct Item {
    double depth;
    int bone;  // -1: the head
  };
  std::vector<Item> items;
  for (int i = 0; i < static_cast<int>(skeleton.bones.size()); ++i) {
    const auto [a, b] = skeleton.bones[i];
    if (is_seen(k, a) && is_seen(k, b)) items.push_back({0.5 * (cam[a][2] + cam[b][2]), i});
  }
  if (head_point >= 0 && is_seen(k, head_point)) items.push_back({cam[head_point][2], -1});
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& x, const Item& y) { return x.depth < y.depth; });

  cairo_set_line_width(cr, config.line_width_px);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  for (const Item& item : items) {
    if (item.bone >= 0) {
      const auto [a, b] = skeleton.bones[item.bone];
      const Rgb& c = bone_colour[item.bone];
      cairo_set_source_rgb(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0);
      cairo_move_to(cr, scr[a][0], scr[a][1]);
      cairo_line_to(cr, scr[b][0], scr[b][1]);
      cairo_stroke(cr);
      continue;
    }
    double r = config.head_radius_px;
    if (!(r > 0.0)) {
      const double f = perspective ? distance / (distance - cam[head_point][2]) : 1.0;
      r = std::max(config.line_width_px,
                   std::min(head_radius_world * scale * f, 0.08 * config.height));
    }
    const Rgb& c = config.bone;
    cairo_set_source_rgb(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0);
    cairo_new_sub_path(cr);
    cairo_arc(cr, scr[head_point][0], scr[head_point][1], r, 0.0, 2.0 * M_PI);
    cairo_fill(cr);
  }

  if (config.draw_time) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.1f s", k / fps);
    const double size = std::max(10.0, config.height / 32.0);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
    const Rgb& c = config.bone;
    cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0, 0.7);
    cairo_move_to(cr, 0.6 * size, config.height - 0.6 * size);
    cairo_show_text(cr, text);
  }
  cairo_surface_flush(surface);
}

StickFigureRenderer::StickFigureRenderer(const Motion& motion, const RenderConfig& config)
    : impl_(std::make_unique<Impl>()) {
  config.validate();
  motion.validate("render");
  if (motion.skeleton.bones.empty()) {
    throw ConfigError("render: skeleton '" + motion.skeleton.name + "' (" +
                      std::to_string(motion.skeleton.num_joints()) + " joints, " +
                      std::to_string(motion.skeleton.dim) +
                      "D) has no bones to draw; name the skeleton of the data (--skeleton "
                      "dwm23|openpose14|coco17|coco17_3d|smpl24)");
  }
  Impl& s = *impl_;
  s.config = config;
  s.load(motion);
  s.set_camera();
  s.build_floor();
  s.frame_the_clip();
  s.choose_styles();
  s.surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, config.width, config.height);
  if (cairo_surface_status(s.surface) != CAIRO_STATUS_SUCCESS) {
    throw Error(std::string("render: cannot create a drawing surface: ") +
                cairo_status_to_string(cairo_surface_status(s.surface)));
  }
  s.cr = cairo_create(s.surface);
  if (cairo_status(s.cr) != CAIRO_STATUS_SUCCESS) {
    throw Error(std::string("render: cannot create a cairo context: ") +
                cairo_status_to_string(cairo_status(s.cr)));
  }
  if (cairo_image_surface_get_stride(s.surface) != config.width * 4) {
    throw Error("render: unexpected cairo row stride");
  }
}

StickFigureRenderer::~StickFigureRenderer() = default;
StickFigureRenderer::StickFigureRenderer(StickFigureRenderer&&) noexcept = default;
StickFigureRenderer& StickFigureRenderer::operator=(StickFigureRenderer&&) noexcept = default;

const RenderConfig& StickFigureRenderer::config() const { return impl_->config; }
double StickFigureRenderer::fps() const { return impl_->fps; }
int64_t StickFigureRenderer::num_frames() const { return impl_->frames; }

std::array<double, 2> StickFigureRenderer::project(int64_t frame, int point) const {
  const Impl& s = *impl_;
  if (frame < 0 || frame >= s.frames || point < 0 || point >= s.points) {
    throw ShapeError("render: frame " + std::to_string(frame) + ", point " + std::to_string(point) +
                     " out of range (" + std::to_string(s.frames) + " frames, " +
                     std::to_string(s.points) + " points)");
  }
  return s.screen(s.camera(s.at(frame, point), frame));
}

bool StickFigureRenderer::visible(int64_t frame, int point) const {
  project(frame, point);  // range check
  return impl_->is_seen(frame, point);
}

const uint8_t* StickFigureRenderer::render_native(int64_t frame) {
  impl_->draw(frame);
  return cairo_image_surface_get_data(impl_->surface);
}

RgbImage StickFigureRenderer::render(int64_t frame) {
  const uint8_t* data = render_native(frame);
  RgbImage img;
  img.width = impl_->config.width;
  img.height = impl_->config.height;
  img.pixels.resize(static_cast<size_t>(img.width) * img.height * 3);
  for (size_t i = 0; i < static_cast<size_t>(img.width) * img.height; ++i) {
    uint32_t v;
    std::memcpy(&v, data + 4 * i, 4);  // native-endian 0x00RRGGBB
    img.pixels[3 * i] = static_cast<uint8_t>(v >> 16);
    img.pixels[3 * i + 1] = static_cast<uint8_t>(v >> 8);
    img.pixels[3 * i + 2] = static_cast<uint8_t>(v);
  }
  return img;
}

}  // namespace momu
