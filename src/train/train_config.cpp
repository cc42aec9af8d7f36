#include "train/train_config.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "momu/core/error.h"

namespace momu {

double TrainConfig::learning_rate_at(int64_t step) const {
  if (warmup_steps > 0 && step < warmup_steps) {
    return learning_rate * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  }
  const double span = static_cast<double>(std::max<int64_t>(1, steps - warmup_steps));
  const double progress = std::clamp((step - warmup_steps) / span, 0.0, 1.0);
  const double cosine = 0.5 * (1.0 + std::cos(M_PI * progress));
  return learning_rate * (min_lr_ratio + (1.0 - min_lr_ratio) * cosine);
}

double TrainConfig::ema_decay_at(int64_t step) const {
  return std::min(ema_decay, (1.0 + static_cast<double>(step)) / (10.0 + static_cast<double>(step)));
}

void TrainConfig::validate() const {
  auto fail = [](const std::string& m) { throw ConfigError("training config: " + m); };
  if (steps < 1) fail("steps must be >= 1");
  if (batch_size < 1) fail("batch_size must be >= 1");
  if (segment_frames < 8) fail("segment_frames must be >= 8");
  if (!(learning_rate > 0.0)) fail("learning_rate must be > 0");
  if (warmup_steps < 0) fail("warmup_steps must be >= 0");
  if (!(min_lr_ratio >= 0.0 && min_lr_ratio <= 1.0)) fail("min_lr_ratio must be in [0, 1]");
  if (!(weight_decay >= 0.0)) fail("weight_decay must be >= 0");
  if (!(beta1 >= 0.0 && beta1 < 1.0) || !(beta2 >= 0.0 && beta2 < 1.0)) {
    fail("beta1 and beta2 must be in [0, 1)");
  }
  if (!(grad_clip >= 0.0)) fail("grad_clip must be >= 0 (0: off)");
  if (!(ema_decay >= 0.0 && ema_decay < 1.0)) fail("ema_decay must be in [0, 1)");
  if (log_every < 1 || validate_every < 1 || checkpoint_every < 1) {
    fail("log_every, validate_every and checkpoint_every must be >= 1");
  }
  if (checkpoint_every % log_every != 0) {
    fail("checkpoint_every must be a multiple of log_every (exact resume of the metrics)");
  }
  if (!(lambda_kl >= 0.0) || !(lambda_c >= 0.0)) fail("lambda_kl and lambda_c must be >= 0");
}

void to_json(nlohmann::json& j, const TrainConfig& c) {
  j = nlohmann::json{{"steps", c.steps},
                     {"batch_size", c.batch_size},
                     {"segment_frames", c.segment_frames},
                     {"learning_rate", c.learning_rate},
                     {"warmup_steps", c.warmup_steps},
                     {"min_lr_ratio", c.min_lr_ratio},
                     {"weight_decay", c.weight_decay},
                     {"beta1", c.beta1},
                     {"beta2", c.beta2},
                     {"grad_clip", c.grad_clip},
                     {"ema_decay", c.ema_decay},
                     {"seed", c.seed},
                     {"log_every", c.log_every},
                     {"validate_every", c.validate_every},
                     {"checkpoint_every", c.checkpoint_every},
                     {"lambda_kl", c.lambda_kl},
                     {"lambda_c", c.lambda_c}};
}

void from_json(const nlohmann::json& j, TrainConfig& c) {
  JsonFields f(j, "training config");
  f.get("steps", c.steps);
  f.get("batch_size", c.batch_size);
  f.get("segment_frames", c.segment_frames);
  f.get("learning_rate", c.learning_rate);
  f.get("warmup_steps", c.warmup_steps);
  f.get("min_lr_ratio", c.min_lr_ratio);
  f.get("weight_decay", c.weight_decay);
  f.get("beta1", c.beta1);
  f.get("beta2", c.beta2);
  f.get("grad_clip", c.grad_clip);
  f.get("ema_decay", c.ema_decay);
  f.get("seed", c.seed);
  f.get("log_every", c.log_every);
  f.get("validate_every", c.validate_every);
  f.get("checkpoint_every", c.checkpoint_every);
  f.get("lambda_kl", c.lambda_kl);
  f.get("lambda_c", c.lambda_c);
  f.finish();
  c.validate();
}

}  // namespace momu
