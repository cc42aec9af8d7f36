#include "momu/audio/hpss.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/json_fields.h"
#include "core/shape.h"
#include "momu/core/error.h"

namespace momu {

namespace {

// Index m of the symmetric extension d c b a | a b c d | d c b a of a line of n samples.
inline int64_t reflect_index(int64_t m, int64_t n) {
  const int64_t period = 2 * n;
  int64_t k = m % period;
  if (k < 0) k += period;
  return k < n ? k : period - 1 - k;
}

// First position in the sorted window [b, b + len) whose value is not below v; branch-free
// (conditional moves), which matters because the comparisons are unpredictable.
template <typename T>
inline T* lower_bound_branchless(T* b, int64_t len, T v) {
  while (len > 1) {
    const int64_t half = len / 2;
    b = b[half - 1] < v ? b + half : b;
    len -= half;
  }
  return b + (*b < v ? 1 : 0);
}

// Running median of every row of a [rows, n] array: a sorted window of `size` values is kept
// per row; each step overwrites the outgoing value with the incoming one and slides it to its
// place (insertion sort by one element), so a step costs O(log size + distance moved).
template <typename T>
void median_filter_rows(const T* in, T* out, int64_t rows, int64_t n, int size) {
  const int64_t half = size / 2;
  const int64_t rank = size / 2;  // scipy.ndimage.median_filter: rank size // 2
  at::parallel_for(0, rows, 8, [&](int64_t r0, int64_t r1) {
    std::vector<T> ext(n + size - 1);
    std::vector<T> window(size);
    T* w = window.data();
    for (int64_t r = r0; r < r1; ++r) {
      const T* line = in + r * n;
      T* dst = out + r * n;
      for (int64_t m = 0; m < n + size - 1; ++m) ext[m] = line[reflect_index(m - half, n)];
      std::copy(ext.begin(), ext.begin() + size, w);
      std::sort(w, w + size);
      dst[0] = w[rank];
      for (int64_t i = 1; i < n; ++i) {
        const T out_v = ext[i - 1];
        const T in_v = ext[i + size - 1];
        if (!(in_v == out_v)) {
          T* pos = lower_bound_branchless(w, size, out_v);
          if (pos == w + size || !(*pos == out_v)) {
            // Only reachable with NaN in the input: rebuild the window.
            std::copy(ext.begin() + i, ext.begin() + i + size, w);
            std::sort(w, w + size);
          } else if (out_v < in_v) {
            T* last = w + size - 1;
            while (pos < last && pos[1] < in_v) {
              pos[0] = pos[1];
              ++pos;
            }
            *pos = in_v;
          } else {
            while (pos > w && pos[-1] > in_v) {
              pos[0] = pos[-1];
              --pos;
            }
            *pos = in_v;
          }
        }
        dst[i] = w[rank];
      }
    }
  });
}

// One element of librosa.util.softmask.
template <typename T>
inline T mask_value(T x, T ref, double power, T tiny, T split_value) {
  if (std::isinf(power)) return x > ref ? T(1) : T(0);
  const T z = std::max(x, ref);
  if (z < tiny) return split_value;
  T a = x / z;
  T b = ref / z;
  if (power == 2.0) {
    a = a * a;
    b = b * b;
  } else if (power != 1.0) {
    a = static_cast<T>(std::pow(a, power));
    b = static_cast<T>(std::pow(b, power));
  }
  return a / (a + b);
}

// For every i: sink(i, softmask(x, ref_scale * ref)[i]), in parallel.
template <typename T, typename Sink>
void softmask_kernel(const T* x, const T* ref, double ref_scale, int64_t n, double power,
                     bool split_zeros, Sink sink) {
  const T tiny = std::numeric_limits<T>::min();
  const T split_value = split_zeros ? T(0.5) : T(0);
  const T scale = static_cast<T>(ref_scale);
  at::parallel_for(0, n, 1 << 14, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      sink(i,
           mask_value(x[i], ref_scale == 1.0 ? ref[i] : ref[i] * scale, power, tiny, split_value));
    }
  });
}

// softmask on contiguous CPU tensors of one floating dtype. -> same shape and dtype
at::Tensor softmask_impl(const at::Tensor& x, const at::Tensor& ref, double power,
                         bool split_zeros) {
  const auto xc = x.contiguous();
  const auto rc = ref.contiguous();
  auto mask = torch::empty_like(xc);
  auto run = [&](auto* xp, auto* rp, auto* mp) {
    softmask_kernel(xp, rp, 1.0, xc.numel(), power, split_zeros,
                    [mp](int64_t i, auto m) { mp[i] = m; });
  };
  if (xc.scalar_type() == torch::kFloat64) {
    run(xc.data_ptr<double>(), rc.data_ptr<double>(), mask.data_ptr<double>());
  } else {
    run(xc.data_ptr<float>(), rc.data_ptr<float>(), mask.data_ptr<float>());
  }
  return mask;
}

// spec * softmask(x, ref_scale * ref) in one pass. spec: contiguous CPU complex or real
// [bins, frames]; x, ref: contiguous CPU magnitudes of the matching real dtype. -> like spec
at::Tensor masked(const at::Tensor& spec, const at::Tensor& x, const at::Tensor& ref,
                  double ref_scale, double power, bool split_zeros) {
  auto out = torch::empty_like(spec);
  auto run = [&](const auto* sp, auto* op, const auto* xp, const auto* rp) {
    softmask_kernel(xp, rp, ref_scale, spec.numel(), power, split_zeros,
                    [sp, op](int64_t i, auto m) { op[i] = sp[i] * m; });
  };
  switch (spec.scalar_type()) {
    case torch::kComplexDouble:
      run(spec.data_ptr<c10::complex<double>>(), out.data_ptr<c10::complex<double>>(),
          x.data_ptr<double>(), ref.data_ptr<double>());
      break;
    case torch::kComplexFloat:
      run(spec.data_ptr<c10::complex<float>>(), out.data_ptr<c10::complex<float>>(),
          x.data_ptr<float>(), ref.data_ptr<float>());
      break;
    case torch::kFloat64:
      run(spec.data_ptr<double>(), out.data_ptr<double>(), x.data_ptr<double>(),
          ref.data_ptr<double>());
      break;
    default:
      run(spec.data_ptr<float>(), out.data_ptr<float>(), x.data_ptr<float>(),
          ref.data_ptr<float>());
  }
  return out;
}

// |X| of a complex64/128 tensor in one parallel pass. -> float32/64 on the CPU, same shape
at::Tensor magnitude(const at::Tensor& spec) {
  const auto x = spec.to(torch::kCPU).contiguous();
  auto out = torch::empty(x.sizes(), x.options().dtype(c10::toRealValueType(x.scalar_type())));
  auto run = [&](auto* in, auto* o) {
    at::parallel_for(0, x.numel(), 1 << 15, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        o[i] = std::sqrt(in[i].real() * in[i].real() + in[i].imag() * in[i].imag());
      }
    });
  };
  if (x.scalar_type() == torch::kComplexDouble) {
    run(x.data_ptr<c10::complex<double>>(), out.data_ptr<double>());
  } else if (x.scalar_type() == torch::kComplexFloat) {
    run(x.data_ptr<c10::complex<float>>(), out.data_ptr<float>());
  } else {
    throw ShapeError("hpss: expected a complex64/128 or float32/64 spectrogram");
  }
  return out;
}

}  // namespace

void HpssConfig::validate() const {
  if (kernel_harmonic < 1 || kernel_percussive < 1) {
    throw ConfigError("hpss: kernel sizes must be >= 1, got " + std::to_string(kernel_harmonic) +
                      " and " + std::to_string(kernel_percussive));
  }
  if (!(power > 0.0)) throw ConfigError("hpss: power must be positive");
  if (!(margin_harmonic >= 1.0) || !(margin_percussive >= 1.0)) {
    throw ConfigError("hpss: margins must be >= 1 (typically 1 to 10), got " +
                      std::to_string(margin_harmonic) + " and " +
                      std::to_string(margin_percussive));
  }
}

void to_json(nlohmann::json& j, const HpssConfig& c) {
  j = nlohmann::json{{"kernel_harmonic", c.kernel_harmonic},
                     {"kernel_percussive", c.kernel_percussive},
                     {"power", c.power},
                     {"margin_harmonic", c.margin_harmonic},
                     {"margin_percussive", c.margin_percussive}};
}

void from_json(const nlohmann::json& j, HpssConfig& c) {
  JsonFields f(j, "hpss config");
  f.get("kernel_harmonic", c.kernel_harmonic);
  f.get("kernel_percussive", c.kernel_percussive);
  f.get("power", c.power);
  f.get("margin_harmonic", c.margin_harmonic);
  f.get("margin_percussive", c.margin_percussive);
  f.finish();
  c.validate();
}

at::Tensor median_filter(const at::Tensor& x, int size, int dim) {
  if (!x.defined() || x.dim() != 2) {
    throw ShapeError("median_filter: expected a 2-D tensor [R, C], got " +
                     (x.defined() ? describe_shape(x) : std::string("undefined")));
  }
  if (x.scalar_type() != torch::kFloat32 && x.scalar_type() != torch::kFloat64) {
    throw ShapeError("median_filter: expected float32 or float64");
  }
  if (dim != 0 && dim != 1) throw ConfigError("median_filter: dim must be 0 or 1");
  if (size < 1) throw ConfigError("median_filter: size must be >= 1");
  // Filter along the last dimension of a contiguous copy.
  auto lines = (dim == 1 ? x : x.transpose(0, 1)).to(torch::kCPU).contiguous();
  auto out = torch::empty_like(lines);
  const int64_t rows = lines.size(0);
  const int64_t n = lines.size(1);
  if (rows > 0 && n > 0) {
    if (lines.scalar_type() == torch::kFloat64) {
      median_filter_rows(lines.data_ptr<double>(), out.data_ptr<double>(), rows, n, size);
    } else {
      median_filter_rows(lines.data_ptr<float>(), out.data_ptr<float>(), rows, n, size);
    }
  }
  out = dim == 1 ? out : out.transpose(0, 1).contiguous();
  return out.to(x.device());
}

at::Tensor softmask(const at::Tensor& x, const at::Tensor& x_ref, double power, bool split_zeros) {
  if (!x.defined() || !x_ref.defined() || x.sizes() != x_ref.sizes()) {
    throw ShapeError("softmask: x and x_ref must have the same shape, got " +
                     (x.defined() ? describe_shape(x) : std::string("undefined")) + " and " +
                     (x_ref.defined() ? describe_shape(x_ref) : std::string("undefined")));
  }
  if (!x.is_floating_point() || !x_ref.is_floating_point()) {
    throw ShapeError("softmask: x and x_ref must be real floating point");
  }
  if (!(power > 0.0)) throw ConfigError("softmask: power must be positive");
  if ((x < 0).any().item<bool>() || (x_ref < 0).any().item<bool>()) {
    throw ShapeError("softmask: x and x_ref must be non-negative");
  }
  const auto dtype = x.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  const auto mask =
      softmask_impl(x.to(torch::kCPU, dtype), x_ref.to(torch::kCPU, dtype), power, split_zeros);
  return mask.to(x.device(), x.scalar_type());
}

namespace {

// HPSS computing only the parts asked for (an undefined tensor for the others).
HpssResult hpss_parts(const at::Tensor& spec, const HpssConfig& config, bool want_harmonic,
                      bool want_percussive) {
  config.validate();
  if (!spec.defined() || spec.dim() != 2) {
    throw ShapeError("hpss: expected a spectrogram [bins, frames], got " +
                     (spec.defined() ? describe_shape(spec) : std::string("undefined")));
  }
  auto mag = spec.is_complex() ? magnitude(spec) : spec;
  if (mag.scalar_type() != torch::kFloat32 && mag.scalar_type() != torch::kFloat64) {
    throw ShapeError("hpss: expected a complex64/128 or float32/64 spectrogram");
  }
  if (!spec.is_complex() && (spec < 0).any().item<bool>()) {
    throw ShapeError("hpss: a real spectrogram must be non-negative (pass magnitudes)");
  }
  mag = mag.to(torch::kCPU).contiguous();
  const auto harm = median_filter(mag, config.kernel_harmonic, /*dim=*/1);
  const auto perc = median_filter(mag, config.kernel_percussive, /*dim=*/0);
  const bool split_zeros = config.margin_harmonic == 1.0 && config.margin_percussive == 1.0;
  // S * mask = |S| mask e^{i angle S} (a zero bin stays zero either way).
  const auto s = spec.to(torch::kCPU).contiguous();
  HpssResult r;
  if (want_harmonic) {
    r.harmonic =
        masked(s, harm, perc, config.margin_harmonic, config.power, split_zeros).to(spec.device());
  }
  if (want_percussive) {
    r.percussive = masked(s, perc, harm, config.margin_percussive, config.power, split_zeros)
                       .to(spec.device());
  }
  return r;
}

at::Tensor hpss_part(const at::Tensor& y, const HpssConfig& config, const StftConfig& stft_config,
                     bool want_percussive) {
  config.validate();
  stft_config.validate();
  if (!y.defined() || y.dim() != 1) {
    throw ShapeError("percussive/harmonic: expected a mono signal y [N], got " +
                     (y.defined() ? describe_shape(y) : std::string("undefined")));
  }
  if (!y.is_floating_point()) throw ShapeError("percussive/harmonic: y must be floating point");
  if (y.size(0) == 0) throw ShapeError("percussive/harmonic: y is empty (0 samples)");
  const auto spec = stft(y.to(torch::kFloat64), stft_config);
  const auto parts = hpss_parts(spec, config, !want_percussive, want_percussive);
  const auto out =
      istft(want_percussive ? parts.percussive : parts.harmonic, stft_config, y.size(0));
  return out.to(y.scalar_type());
}

}  // namespace

HpssResult hpss(const at::Tensor& spec, const HpssConfig& config) {
  return hpss_parts(spec, config, true, true);
}

at::Tensor percussive(const at::Tensor& y, const HpssConfig& config,
                      const StftConfig& stft_config) {
  return hpss_part(y, config, stft_config, /*want_percussive=*/true);
}

at::Tensor harmonic(const at::Tensor& y, const HpssConfig& config, const StftConfig& stft_config) {
  return hpss_part(y, config, stft_config, /*want_percussive=*/false);
}

}  // namespace momu
