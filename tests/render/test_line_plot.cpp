// Line plots (momu plot): ticks, drawing, PNG files, errors, the CLI on metrics.jsonl files.
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "momu/core/error.h"
#include "render/line_plot.h"
#include "test_util.h"
#include "train/metrics_log.h"

using namespace momu;
namespace fs = std::filesystem;

namespace {

int64_t count_color(const RgbImage& img, Rgb c) {
  int64_t n = 0;
  for (int y = 0; y < img.height; ++y) {
    for (int x = 0; x < img.width; ++x) n += img.at(x, y) == c;
  }
  return n;
}

// Mean column (x) of the pixels of colour c in rows [y0, y1), or -1 when there are none.
double mean_x_of(const RgbImage& img, Rgb c) {
  double sum = 0;
  int64_t n = 0;
  for (int y = 0; y < img.height; ++y) {
    for (int x = 0; x < img.width; ++x) {
      if (img.at(x, y) == c) {
        sum += x;
        ++n;
      }
    }
  }
  return n ? sum / n : -1.0;
}

bool is_png(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  char sig[8] = {};
  in.read(sig, 8);
  return in.gcount() == 8 && std::string(sig + 1, 3) == "PNG" && static_cast<unsigned char>(sig[0]) == 0x89;
}

}  // namespace

TEST(LinePlot, LinearTicksAreNiceAndCoverTheRange) {
  const auto t = axis_ticks(0.0, 2000.0, false, 6);
  ASSERT_FALSE(t.empty());
  EXPECT_DOUBLE_EQ(t.front(), 0.0);
  EXPECT_DOUBLE_EQ(t.back(), 2000.0);
  for (size_t i = 1; i < t.size(); ++i) EXPECT_NEAR(t[i] - t[i - 1], 500.0, 1e-9);
  const auto u = axis_ticks(-0.13, 0.27, false, 4);
  for (double v : u) {
    EXPECT_GE(v, -0.13);
    EXPECT_LE(v, 0.27);
  }
  EXPECT_NEAR(u[1] - u[0], 0.1, 1e-12);
}

TEST(LinePlot, LogTicksArePowersOfTenOrTheir125Multiples) {
  EXPECT_EQ(axis_ticks(0.003, 20.0, true), (std::vector<double>{0.01, 0.1, 1.0, 10.0}));
  const auto t = axis_ticks(0.04, 0.9, true);  // less than two decades: 1-2-5 ticks
  ASSERT_GE(t.size(), 3u);
  EXPECT_NEAR(t[0], 0.05, 1e-12);
  EXPECT_NEAR(t[1], 0.1, 1e-12);
  EXPECT_NEAR(t[2], 0.2, 1e-12);
  EXPECT_TRUE(axis_ticks(-1.0, 1.0, true).empty());
}

TEST(LinePlot, DrawsEachSeriesInItsColourWhereItsDataAre) {
  const Rgb red{214, 39, 40}, blue{31, 119, 180};
  PlotSeries left{"", {0, 1, 2, 3}, {1, 1.2, 0.8, 1.1}, red};
  PlotSeries right{"", {7, 8, 9, 10}, {1, 1.2, 0.8, 1.1}, blue};
  LinePlotConfig cfg;
  cfg.width = 600;
  cfg.height = 300;
  const RgbImage img = render_line_plot({left, right}, cfg);
  ASSERT_EQ(img.width, 600);
  ASSERT_EQ(img.height, 300);
  EXPECT_GT(count_color(img, red), 100);
  EXPECT_GT(count_color(img, blue), 100);
  // The x range is shared: the first series sits in the left part, the second in the right.
  EXPECT_LT(mean_x_of(img, red), 0.45 * img.width);
  EXPECT_GT(mean_x_of(img, blue), 0.6 * img.width);
  EXPECT_EQ(img.at(2, 2), cfg.background);
}

TEST(LinePlot, LogAxisSpreadsDecadesEvenly) {
  // On a log axis, y = 10^x is a straight line: equal steps in x are equal steps in pixels.
  const Rgb c{44, 160, 44};
  PlotSeries s{"", {0, 1, 2, 3}, {1, 10, 100, 1000}, c};
  LinePlotConfig cfg;
  cfg.log_y = true;
  cfg.line_width_px = 3.0;
  const RgbImage img = render_line_plot({s}, cfg);
  // The centroid of the line's pixels in three x bands must lie on one straight line.
  std::vector<double> xs, ys;
  for (int band = 0; band < 3; ++band) {
    double sx = 0, sy = 0;
    int64_t n = 0;
    for (int y = 0; y < img.height; ++y) {
      for (int x = 0; x < img.width; ++x) {
        if (img.at(x, y) == c && x * 3 / img.width == band) {
          sx += x;
          sy += y;
          ++n;
        }
      }
    }
    ASSERT_GT(n, 0) << "band " << band;
    xs.push_back(sx / n);
    ys.push_back(sy / n);
  }
  const double slope01 = (ys[1] - ys[0]) / (xs[1] - xs[0]);
  const double slope12 = (ys[2] - ys[1]) / (xs[2] - xs[1]);
  EXPECT_LT(slope01, -0.2);  // the line rises (pixel rows grow downwards)
  EXPECT_NEAR(slope01, slope12, 0.03 * std::abs(slope01));
}

TEST(LinePlot, BadSeriesAreClearErrors) {
  LinePlotConfig cfg;
  EXPECT_THROW(render_line_plot({}, cfg), ShapeError);
  EXPECT_THROW(render_line_plot({PlotSeries{"a", {}, {}}}, cfg), ShapeError);
  EXPECT_THROW(render_line_plot({PlotSeries{"a", {1, 2}, {1}}}, cfg), ShapeError);
  try {
    render_line_plot({PlotSeries{"val", {1, 2}, {1, std::nan("")}}}, cfg);
    FAIL() << "NaN accepted";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("'val'"), std::string::npos) << e.what();
  }
  cfg.log_y = true;
  EXPECT_THROW(render_line_plot({PlotSeries{"a", {1, 2}, {1, 0}}}, cfg), ConfigError);
  LinePlotConfig tiny;
  tiny.width = 50;
  EXPECT_THROW(render_line_plot({PlotSeries{"a", {1, 2}, {1, 2}}}, tiny), ConfigError);
}

TEST(LinePlot, WritesAPngAtomically) {
  test::TempDir tmp;
  const RgbImage img = render_line_plot({PlotSeries{"a", {0, 1}, {0, 1}}}, LinePlotConfig{});
  const fs::path png = tmp.path() / "curve.png";
  write_png(img, png);
  EXPECT_TRUE(is_png(png));
  EXPECT_GT(fs::file_size(png), 1000u);
  EXPECT_THROW(write_png(img, tmp.path() / "no_such_dir" / "x.png"), IoError);
  EXPECT_FALSE(fs::exists(tmp.path() / "no_such_dir"));
}

TEST(LinePlot, CliPlotsTrainingCurvesFromMetricsFiles) {
  test::TempDir tmp;
  const fs::path run = tmp.path() / "myrun";
  fs::create_directories(run);
  {
    MetricsLog log(run / "metrics.jsonl", -1);
    for (int step = 50; step <= 1000; step += 50) {
      log.append({{"step", step}, {"split", "train"}, {"loss", 1.0 / step}});
      if (step % 250 == 0) {
        log.append({{"step", step}, {"split", "validation"}, {"loss", 2.0 / step}});
      }
    }
  }
  const fs::path png = tmp.path() / "curve.png";
  auto r = test::run_momu("plot -q --metrics " + (run / "metrics.jsonl").string() +
                          " --key train:loss --key validation:loss --log-y --title Test --out " +
                          png.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(is_png(png));
  const auto report = nlohmann::json::parse(r.out);
  ASSERT_EQ(report["series"].size(), 2u);
  EXPECT_EQ(report["series"][0]["series"], "myrun train loss");
  EXPECT_EQ(report["series"][0]["points"], 20);
  EXPECT_EQ(report["series"][1]["points"], 4);
  EXPECT_DOUBLE_EQ(report["series"][1]["last"].get<double>(), 0.002);

  // A key no line has: an error naming the file and the key, and no picture.
  const fs::path bad = tmp.path() / "bad.png";
  r = test::run_momu("plot -q --metrics " + (run / "metrics.jsonl").string() +
                     " --key validation:accuracy --out " + bad.string());
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("metrics.jsonl"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("accuracy"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(bad));

  // A truncated metrics file: a format error naming it.
  {
    std::ofstream out(run / "cut.jsonl");
    out << "{\"step\": 50, \"split\": \"train\", \"loss\": 0.5}\n{\"step\": 100, \"spl";
  }
  r = test::run_momu("plot -q --metrics " + (run / "cut.jsonl").string() + " --out " + bad.string());
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("cut.jsonl"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(bad));

  // A wrong output extension and a mismatched label count are usage errors before any work.
  r = test::run_momu("plot -q --metrics " + (run / "metrics.jsonl").string() + " --out " +
                     (tmp.path() / "c.svg").string());
  EXPECT_NE(r.exit_code, 0);
  r = test::run_momu("plot -q --metrics " + (run / "metrics.jsonl").string() +
                     " --label a --label b --out " + bad.string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(fs::exists(bad));
}
