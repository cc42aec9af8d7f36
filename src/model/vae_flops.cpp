#include "model/vae_flops.h"

namespace momu {

namespace {
double conv_flops(double cin, double cout, double k, double t) { return 2.0 * cin * cout * k * t; }
double resblock(double cin, double cout, double t) {
  return conv_flops(cin, cout, 3, t) + conv_flops(cout, cout, 3, t) + (cin != cout ? conv_flops(cin, cout, 1, t) : 0.0);
}
double attention(double c, double t) {
  return conv_flops(c, 3 * c, 1, t) + conv_flops(c, c, 1, t) + 2.0 * 2.0 * t * t * c;
}
double middle(const VaeConfig& c, double w, double t) {
  return 2 * resblock(w, w, t) + (c.mid_attention ? attention(w, t) : 0.0);
}
}  // namespace

double conv_vae_encoder_flops(const VaeConfig& c, int64_t frames) {
  const int levels = static_cast<int>(c.channel_mult.size());
  double t = static_cast<double>(frames);
  double w = c.base_channels * c.channel_mult[0];
  double f = conv_flops(c.in_channels, w, 3, t);
  for (int level = 0; level < levels; ++level) {
    const double out = c.base_channels * c.channel_mult[level];
    for (int b = 0; b < c.blocks_per_level; ++b) {
      f += resblock(w, out, t);
      w = out;
    }
    if (level < c.num_downsamples) {
      t /= 2;
      f += conv_flops(w, w, 3, t);
    }
  }
  f += middle(c, w, t) + conv_flops(w, 2.0 * c.latent_channels, 3, t);
  return f;
}

double conv_vae_decoder_flops(const VaeConfig& c, int64_t frames) {
  const int levels = static_cast<int>(c.channel_mult.size());
  double t = static_cast<double>(frames) / c.time_compression();
  double w = c.base_channels * c.channel_mult[levels - 1];
  double f = conv_flops(c.latent_channels, w, 3, t) + middle(c, w, t);
  for (int level = levels - 1; level >= 0; --level) {
    const double out = c.base_channels * c.channel_mult[level];
    for (int b = 0; b < c.blocks_per_level; ++b) {
      f += resblock(w, out, t);
      w = out;
    }
    if (level < c.num_downsamples) {
      t *= 2;
      f += conv_flops(w, w, 3, t);
    }
  }
  return f + conv_flops(w, c.in_channels, 3, t);
}

}  // namespace momu
