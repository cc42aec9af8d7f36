#include "train/training_run.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "momu/io/atomic_file.h"
#include "momu/io/safetensors.h"
#include "momu/model/module_weights.h"
#include "momu/train/checkpoint_dir.h"
#include "momu/train/ema.h"
#include "momu/train/metrics_log.h"
#include "momu/train/optimizer_state.h"
#include "momu/train/train_step.h"

namespace momu {

namespace fs = std::filesystem;

namespace {

// Running sums of the train record between two metrics lines.
class MetricsWindow {
 public:
  void add(double loss, double grad_norm, const std::vector<std::pair<std::string, double>>& scalars) {
    loss_ += loss;
    grad_norm_ += grad_norm;
    ++steps_;
    for (const auto& [name, value] : scalars) {
      if (std::isnan(value)) continue;
      auto& [sum, n] = scalars_[name];
      sum += value;
      ++n;
    }
  }
  // The train record after `step` steps; restarts the window.
  nlohmann::json take(int64_t step, const TrainConfig& train) {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double n = static_cast<double>(steps_);
    nlohmann::json rec{{"split", "train"},
                       {"step", step},
                       {"loss", loss_ / n},
                       {"lr", train.learning_rate_at(step - 1)},
                       {"grad_norm", grad_norm_ / n},
                       {"samples_per_s", secs > 0 ? n * train.batch_size / secs : 0.0},
                       {"seconds_per_step", secs / n}};
    for (const auto& [name, sum_n] : scalars_) {
      if (sum_n.second > 0) rec[name] = sum_n.first / static_cast<double>(sum_n.second);
    }
    *this = MetricsWindow();
    return rec;
  }

 private:
  double loss_ = 0, grad_norm_ = 0;
  int64_t steps_ = 0;
  std::map<std::string, std::pair<double, int64_t>> scalars_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace

TrainingRun::TrainingRun(TrainingRunOptions options, torch::nn::Module& model, torch::nn::Module& ema)
    : options_(std::move(options)),
      model_(model),
      ema_(ema),
      optimizer_(model.parameters(),
                 torch::optim::AdamWOptions(options_.train.learning_rate)
                     .betas(std::make_tuple(options_.train.beta1, options_.train.beta2))
                     .weight_decay(options_.train.weight_decay)),
      best_validation_(std::numeric_limits<double>::infinity()) {}

void TrainingRun::load_last() {
  const fs::path last = last_dir();
  const fs::path raw = last / "trainer" / "weights.safetensors";
  load_module_tensors(model_, load_safetensors(raw).tensors, options_.weights_prefix, raw.string());
  const fs::path ema = last / "model.safetensors";
  load_module_tensors(ema_, load_safetensors(ema).tensors, options_.weights_prefix, ema.string());
  load_optimizer_state(optimizer_, last / "trainer" / "optimizer.pt", torch::Device(options_.device));
  const fs::path state_path = last / "trainer" / "state.json";
  const auto state = checkpoint_json::trainer_state(read_json_file(state_path), state_path);
  step_ = state.step;
  if (state.has_best) best_validation_ = state.best_validation_loss;  // null: no validation yet
}

void TrainingRun::save(const TrainingHooks& hooks, bool best) {
  write_checkpoint_dir(best ? best_dir() : last_dir(), [&](const fs::path& tmp) {
    const CheckpointContent content = hooks.checkpoint(step_, last_validation_);
    write_bytes_atomically(tmp / "config.json", content.config.dump(2) + "\n");
    save_safetensors(tmp / "model.safetensors", content.weights, content.metadata);
    if (best) return;  // best/ is a model; only last/ is resumed
    fs::create_directories(tmp / "trainer");
    save_safetensors(tmp / "trainer" / "weights.safetensors",
                     module_tensors(model_, options_.weights_prefix));
    save_optimizer_state(optimizer_, tmp / "trainer" / "optimizer.pt");
    nlohmann::json state{{"step", step_}, {"best_validation_loss", nullptr}};
    if (std::isfinite(best_validation_)) state["best_validation_loss"] = best_validation_;
    write_bytes_atomically(tmp / "trainer" / "state.json", state.dump(2) + "\n");
  });
}

void TrainingRun::run(const TrainingHooks& hooks, const LogSink& log, const ProgressCallback& progress) {
  const TrainConfig& train = options_.train;
  fs::create_directories(options_.out_dir);
  MetricsLog metrics(options_.out_dir / "metrics.jsonl", options_.resume ? step_ : -1);
  const auto validate = [&]() {
    const nlohmann::json rec = hooks.validate(step_);
    metrics.append(rec);
    last_validation_ = rec;
    return rec;
  };
  MetricsWindow window;
  const int64_t first_step = step_;
  while (step_ < train.steps) {
    if (options_.stop_after_steps >= 0 && step_ - first_step >= options_.stop_after_steps) break;
    model_.train();
    set_learning_rate(optimizer_, train.learning_rate_at(step_));
    optimizer_.zero_grad();
    const StepOutput out = hooks.step(step_);
    const double loss_value = out.loss.item<double>();
    if (!std::isfinite(loss_value)) {
      throw Error(options_.label + ": the loss became non-finite at step " + std::to_string(step_) +
                  " (try a lower learning_rate or a higher grad_clip); the last checkpoint in " +
                  last_dir().string() + " is intact");
    }
    out.loss.backward();
    const double grad_norm = clip_gradients(model_.parameters(), train.grad_clip);
    optimizer_.step();
    ema_update(ema_, model_, train.ema_decay_at(step_));
    ++step_;
    window.add(loss_value, grad_norm, out.scalars);
    if (step_ % train.log_every == 0 || step_ == train.steps) metrics.append(window.take(step_, train));
    after_step(train, step_, loss_value, options_.progress_label, static_cast<bool>(hooks.validate),
               validate, [&](bool best) { save(hooks, best); }, best_validation_, log, progress);
  }
  if (step_ % train.checkpoint_every != 0 && step_ != train.steps) save(hooks, false);
}

}  // namespace momu
