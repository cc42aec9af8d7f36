// Line plots drawn with cairo (the training curves of `momu plot`): one or more (x, y) series on
// linear or logarithmic y axes with "nice" tick values, a title, axis labels and a legend,
// written as PNG.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "render/stick_figure.h"  // Rgb, RgbImage

namespace momu {

enum class LineStyle { kSolid, kDashed, kDotted, kDashDot };

struct PlotSeries {
  std::string label;      // legend entry; an empty label is left out of the legend
  std::vector<double> x;  // [N], finite
  std::vector<double> y;  // [N], finite (and > 0 on a logarithmic axis)
  Rgb color{31, 119, 180};
  LineStyle style = LineStyle::kSolid;
  bool markers = false;  // a dot at every point (for sparse series such as validation losses)
};

struct LinePlotConfig {
  int width = 900;  // pixels, at least 200 x 150
  int height = 500;
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_y = false;
  Rgb background{255, 255, 255};
  Rgb axis{40, 40, 40};
  Rgb grid{225, 225, 225};
  double line_width_px = 2.0;
  double font_px = 14.0;

  void validate() const;  // throws ConfigError naming the field
};

// Draws the series. Throws ShapeError when there is no series, a series is empty or its x and y
// differ in length; FormatError naming the series for a non-finite value; ConfigError for a
// non-positive y on a logarithmic axis or an invalid config.
RgbImage render_line_plot(const std::vector<PlotSeries>& series, const LinePlotConfig& config);

// Writes an image as PNG, atomically. Throws IoError naming the file.
void write_png(const RgbImage& image, const std::filesystem::path& path);

// Tick values of an axis over [lo, hi]: about `target` "nice" values (1, 2, 5 x 10^k steps) on a
// linear axis; on a logarithmic one the powers of ten inside the range, with 2 and 5 times them
// when there are fewer than three. Exposed for tests.
std::vector<double> axis_ticks(double lo, double hi, bool log_scale, int target = 6);

}  // namespace momu
