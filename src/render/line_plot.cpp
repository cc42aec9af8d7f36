#include "render/line_plot.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>

#include "core/atomic_file.h"
#include "momu/core/error.h"

namespace momu {

namespace fs = std::filesystem;

namespace {

struct SurfaceDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct ContextDeleter {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};
using Surface = std::unique_ptr<cairo_surface_t, SurfaceDeleter>;
using Context = std::unique_ptr<cairo_t, ContextDeleter>;

void set_color(cairo_t* cr, Rgb c, double alpha = 1.0) {
  cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0, alpha);
}

void set_style(cairo_t* cr, LineStyle style, double width) {
  const double dash[] = {4 * width, 2.5 * width};
  const double dot[] = {width, 2 * width};
  const double dash_dot[] = {4 * width, 2 * width, width, 2 * width};
  switch (style) {
    case LineStyle::kSolid: cairo_set_dash(cr, nullptr, 0, 0); break;
    case LineStyle::kDashed: cairo_set_dash(cr, dash, 2, 0); break;
    case LineStyle::kDotted: cairo_set_dash(cr, dot, 2, 0); break;
    case LineStyle::kDashDot: cairo_set_dash(cr, dash_dot, 4, 0); break;
  }
}

std::string tick_label(double v) {
  if (v == 0.0) return "0";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

double text_width(cairo_t* cr, const std::string& s) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  return e.x_advance;
}

// Step 1, 2 or 5 x 10^k closest above raw.
double nice_step(double raw) {
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= raw * (1 - 1e-9)) return m * p;
  }
  return 10.0 * p;
}

}  // namespace

void LinePlotConfig::validate() const {
  if (width < 200 || height < 150) {
    throw ConfigError("plot: width x height must be at least 200 x 150 (got " +
                      std::to_string(width) + " x " + std::to_string(height) + ")");
  }
  if (!(line_width_px > 0.0) || !(font_px > 0.0)) {
    throw ConfigError("plot: line_width_px and font_px must be positive");
  }
}

std::vector<double> axis_ticks(double lo, double hi, bool log_scale, int target) {
  std::vector<double> ticks;
  if (!(hi > lo) || target < 1) return ticks;
  if (log_scale) {
    if (!(lo > 0.0)) return ticks;
    const int k0 = static_cast<int>(std::ceil(std::log10(lo) - 1e-9));
    const int k1 = static_cast<int>(std::floor(std::log10(hi) + 1e-9));
    for (int k = k0; k <= k1; ++k) ticks.push_back(std::pow(10.0, k));
    if (ticks.size() < 3) {
      ticks.clear();
      const int a = static_cast<int>(std::floor(std::log10(lo))) - 1;
      const int b = static_cast<int>(std::ceil(std::log10(hi)));
      for (int k = a; k <= b; ++k) {
        for (double m : {1.0, 2.0, 5.0}) {
          const double v = m * std::pow(10.0, k);
          if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push_back(v);
        }
      }
    }
    return ticks;
  }
  const double step = nice_step((hi - lo) / target);
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    ticks.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  }
  return ticks;
}

RgbImage render_line_plot(const std::vector<PlotSeries>& series, const LinePlotConfig& config) {
  config.validate();
  if (series.empty()) throw ShapeError("plot: no series to draw");
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo;
  double y_lo = x_lo, y_hi = -x_lo;
  for (const auto& s : series) {
    const std::string name = s.label.empty() ? "(unnamed)" : "'" + s.label + "'";
    if (s.x.empty()) throw ShapeError("plot: series " + name + " has no points");
    if (s.x.size() != s.y.size()) {
      throw ShapeError("plot: series " + name + " has " + std::to_string(s.x.size()) +
                       " x values but " + std::to_string(s.y.size()) + " y values");
    }
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        throw FormatError("plot: series " + name + " has a non-finite value at point " +
                          std::to_string(i));
      }
      if (config.log_y && !(s.y[i] > 0.0)) {
        throw ConfigError("plot: series " + name + " has y = " + tick_label(s.y[i]) +
                          " at point " + std::to_string(i) +
                          ", which a logarithmic axis cannot show");
      }
      x_lo = std::min(x_lo, s.x[i]);
      x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i]);
      y_hi = std::max(y_hi, s.y[i]);
    }
  }
  if (!(x_hi > x_lo)) {
    x_lo -= 0.5;
    x_hi += 0.5;
  }
  // Axis ranges in drawing space (log10 for a log axis), padded by 5%.
  auto ty = [&](double y) { return config.log_y ? std::log10(y) : y; };
  double a_lo = ty(y_lo), a_hi = ty(y_hi);
  if (!(a_hi > a_lo)) {
    const double d = std::max(std::abs(a_lo) * 0.1, 0.5);
    a_lo -= d;
    a_hi += d;
  }
  const double pad = 0.05 * (a_hi - a_lo);
  a_lo -= pad;
  a_hi += pad;

  const int w = config.width, h = config.height;
  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h));
  Context ctx(cairo_create(surface.get()));
  cairo_t* cr = ctx.get();
  set_color(cr, config.background);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  const double fs = config.font_px;
  cairo_set_font_size(cr, fs);

  const auto y_ticks = axis_ticks(config.log_y ? std::pow(10.0, a_lo) : a_lo,
                                  config.log_y ? std::pow(10.0, a_hi) : a_hi, config.log_y);
  const auto x_ticks = axis_ticks(x_lo, x_hi, false, 8);
  double label_w = 0.0;
  for (double v : y_ticks) label_w = std::max(label_w, text_width(cr, tick_label(v)));
  const double left = 0.8 * fs + label_w + (config.y_label.empty() ? 0.0 : 1.8 * fs) + 6.0;
  const double right = 1.5 * fs;
  const double top = config.title.empty() ? fs : 2.6 * fs;
  const double bottom = 2.2 * fs + (config.x_label.empty() ? 0.0 : 1.5 * fs);
  const double pw = w - left - right, ph = h - top - bottom;
  if (pw < 50 || ph < 50) throw ConfigError("plot: the picture is too small for its labels");
  auto px = [&](double x) { return left + (x - x_lo) / (x_hi - x_lo) * pw; };
  auto py = [&](double y) { return top + (a_hi - ty(y)) / (a_hi - a_lo) * ph; };

  // Grid and ticks.
  cairo_set_line_width(cr, 1.0);
  for (double v : y_ticks) {
    const double y = std::round(py(v)) + 0.5;
    set_color(cr, config.grid);
    cairo_move_to(cr, left, y);
    cairo_line_to(cr, left + pw, y);
    cairo_stroke(cr);
    set_color(cr, config.axis);
    const std::string s = tick_label(v);
    cairo_move_to(cr, left - 6.0 - text_width(cr, s), y + 0.35 * fs);
    cairo_show_text(cr, s.c_str());
  }
  for (double v : x_ticks) {
    const double x = std::round(px(v)) + 0.5;
    set_color(cr, config.grid);
    cairo_move_to(cr, x, top);
    cairo_line_to(cr, x, top + ph);
    cairo_stroke(cr);
    set_color(cr, config.axis);
    const std::string s = tick_label(v);
    cairo_move_to(cr, x - 0.5 * text_width(cr, s), top + ph + 1.3 * fs);
    cairo_show_text(cr, s.c_str());
  }
  set_color(cr, config.axis);
  cairo_rectangle(cr, left + 0.5, top + 0.5, pw, ph);
  cairo_stroke(cr);

  // Labels and title.
  if (!config.x_label.empty()) {
    cairo_move_to(cr, left + 0.5 * (pw - text_width(cr, config.x_label)), h - 0.6 * fs);
    cairo_show_text(cr, config.x_label.c_str());
  }
  if (!config.y_label.empty()) {
    cairo_save(cr);
    cairo_move_to(cr, 1.3 * fs, top + 0.5 * (ph + text_width(cr, config.y_label)));
    cairo_rotate(cr, -M_PI / 2);
    cairo_show_text(cr, config.y_label.c_str());
    cairo_restore(cr);
  }
  if (!config.title.empty()) {
    cairo_save(cr);
    cairo_set_font_size(cr, 1.2 * fs);
    cairo_move_to(cr, left + 0.5 * (pw - text_width(cr, config.title)), 1.7 * fs);
    cairo_show_text(cr, config.title.c_str());
    cairo_restore(cr);
  }

  // Series, clipped to the plot area.
  cairo_save(cr);
  cairo_rectangle(cr, left, top, pw, ph);
  cairo_clip(cr);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_width(cr, config.line_width_px);
  for (const auto& s : series) {
    set_color(cr, s.color);
    set_style(cr, s.style, config.line_width_px);
    cairo_move_to(cr, px(s.x[0]), py(s.y[0]));
    for (size_t i = 1; i < s.x.size(); ++i) cairo_line_to(cr, px(s.x[i]), py(s.y[i]));
    cairo_stroke(cr);
    if (s.markers || s.x.size() == 1) {
      for (size_t i = 0; i < s.x.size(); ++i) {
        cairo_new_sub_path(cr);
        cairo_arc(cr, px(s.x[i]), py(s.y[i]), 1.8 * config.line_width_px, 0, 2 * M_PI);
      }
      cairo_fill(cr);
    }
  }
  cairo_restore(cr);

  // Legend, top right inside the plot area.
  std::vector<const PlotSeries*> named;
  for (const auto& s : series) {
    if (!s.label.empty()) named.push_back(&s);
  }
  if (!named.empty()) {
    double tw = 0.0;
    for (const auto* s : named) tw = std::max(tw, text_width(cr, s->label));
    const double row = 1.4 * fs, sample = 2.4 * fs;
    const double bw = sample + tw + 1.6 * fs, bh = row * named.size() + 0.6 * fs;
    const double bx = left + pw - bw - 0.6 * fs, by = top + 0.6 * fs;
    set_color(cr, config.background, 0.85);
    cairo_rectangle(cr, bx, by, bw, bh);
    cairo_fill_preserve(cr);
    set_color(cr, config.grid);
    cairo_set_line_width(cr, 1.0);
    cairo_set_dash(cr, nullptr, 0, 0);
    cairo_stroke(cr);
    for (size_t i = 0; i < named.size(); ++i) {
      const double y = by + 0.3 * fs + row * (i + 0.5);
      set_color(cr, named[i]->color);
      cairo_set_line_width(cr, config.line_width_px);
      set_style(cr, named[i]->style, config.line_width_px);
      cairo_move_to(cr, bx + 0.5 * fs, y);
      cairo_line_to(cr, bx + 0.5 * fs + sample - 0.6 * fs, y);
      cairo_stroke(cr);
      cairo_set_dash(cr, nullptr, 0, 0);
      set_color(cr, config.axis);
      cairo_move_to(cr, bx + 0.5 * fs + sample, y + 0.35 * fs);
      cairo_show_text(cr, named[i]->label.c_str());
    }
  }
  cairo_surface_flush(surface.get());

  RgbImage image;
  image.width = w;
  image.height = h;
  image.pixels.resize(static_cast<size_t>(w) * h * 3);
  const unsigned char* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  for (int y = 0; y < h; ++y) {
    const auto* row = reinterpret_cast<const uint32_t*>(data + static_cast<size_t>(y) * stride);
    for (int x = 0; x < w; ++x) {
      const uint32_t p = row[x];
      uint8_t* o = &image.pixels[(static_cast<size_t>(y) * w + x) * 3];
      o[0] = static_cast<uint8_t>((p >> 16) & 0xff);
      o[1] = static_cast<uint8_t>((p >> 8) & 0xff);
      o[2] = static_cast<uint8_t>(p & 0xff);
    }
  }
  return image;
}

void write_png(const RgbImage& image, const fs::path& path) {
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3) {
    throw ShapeError(path.string() + ": image of " + std::to_string(image.width) + " x " +
                     std::to_string(image.height) + " pixels has " +
                     std::to_string(image.pixels.size()) + " bytes");
  }
  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, image.width, image.height));
  unsigned char* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  for (int y = 0; y < image.height; ++y) {
    auto* row = reinterpret_cast<uint32_t*>(data + static_cast<size_t>(y) * stride);
    for (int x = 0; x < image.width; ++x) {
      const uint8_t* p = &image.pixels[(static_cast<size_t>(y) * image.width + x) * 3];
      row[x] = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | uint32_t{p[2]};
    }
  }
  cairo_surface_mark_dirty(surface.get());
  write_file_atomically(path, [&](const fs::path& tmp) {
    const cairo_status_t st = cairo_surface_write_to_png(surface.get(), tmp.c_str());
    if (st != CAIRO_STATUS_SUCCESS) {
      throw IoError(path.string() + ": cannot write the PNG (" + cairo_status_to_string(st) + ")");
    }
  });
}

}  // namespace momu
