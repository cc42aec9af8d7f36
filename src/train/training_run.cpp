#include "train/training_run.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#include "core/atomic_file.h"
#include "core/checkpoint_dir.h"
#include "io/safetensors.h"
#include "model/module_weights.h"
#include "train/ema.h"
#include "train/metrics_log.h"
#include "train/optimizer_state.h"
#include "train/train_step.h"

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
  // The train record after `step` steps (`global_batch` samples a step); restarts the window.
  nlohmann::json take(int64_t step, const TrainConfig& train, int64_t global_batch) {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double n = static_cast<double>(steps_);
    nlohmann::json rec{{"split", "train"},
                       {"step", step},
                       {"loss", loss_ / n},
                       {"lr", train.learning_rate_at(step - 1)},
                       {"grad_norm", grad_norm_ / n},
                       {"samples_per_s", secs > 0 ? n * global_batch / secs : 0.0},
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

std::shared_ptr<RankGroup> join_ranks(const DistributedConfig& config, const std::string& label) {
  config.validate();
  if (!config.distributed()) return nullptr;
  return RankGroup::join(config, label);
}

BatchShard TrainingRun::shard() const {
  const int64_t b = options_.train.batch_size;
  const int rank = options_.group ? options_.group->rank() : 0;
  return BatchShard{rank * b, b, world_size() * b};
}

void TrainingRun::broadcast_weights() {
  std::vector<at::Tensor> tensors;
  for (torch::nn::Module* m : {&model_, &ema_}) {
    for (const auto& p : m->parameters()) tensors.push_back(p);
    for (const auto& b : m->buffers()) tensors.push_back(b);
  }
  options_.group->broadcast(tensors);
}

void TrainingRun::average_over_ranks(double& loss,
                                     std::vector<std::pair<std::string, double>>& scalars) {
  // [loss, then per scalar: its value (0 for NaN), 1 where it has one], summed over the ranks.
  at::Tensor v = torch::zeros({1 + 2 * static_cast<int64_t>(scalars.size())}, torch::kFloat64);
  double* d = v.data_ptr<double>();
  d[0] = loss;
  for (size_t i = 0; i < scalars.size(); ++i) {
    const bool has = !std::isnan(scalars[i].second);
    d[1 + 2 * i] = has ? scalars[i].second : 0.0;
    d[2 + 2 * i] = has ? 1.0 : 0.0;
  }
  options_.group->sum(v);
  d = v.data_ptr<double>();
  loss = d[0] / world_size();  // a rank's non-finite loss makes every rank's non-finite
  for (size_t i = 0; i < scalars.size(); ++i) {
    scalars[i].second = d[2 + 2 * i] > 0 ? d[1 + 2 * i] / d[2 + 2 * i] : std::nan("");
  }
}

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
  if (state.world_size != world_size()) {
    throw ConfigError(options_.label + " --resume: " + state_path.string() + " was trained by " +
                      std::to_string(state.world_size) + " process(es), this run has --world-size " +
                      std::to_string(world_size()) +
                      "; resume with the same world size (the batches depend on it)");
  }
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
    nlohmann::json state{
        {"step", step_}, {"best_validation_loss", nullptr}, {"world_size", world_size()}};
    if (std::isfinite(best_validation_)) state["best_validation_loss"] = best_validation_;
    write_bytes_atomically(tmp / "trainer" / "state.json", state.dump(2) + "\n");
  });
}

void TrainingRun::run(const TrainingHooks& hooks, const LogSink& log, const ProgressCallback& progress) {
  const TrainConfig& train = options_.train;
  RankGroup* group = options_.group.get();
  const bool writer = writes();  // other ranks never touch the run folder
  std::optional<MetricsLog> metrics;
  if (writer) {
    fs::create_directories(options_.out_dir);
    metrics.emplace(options_.out_dir / "metrics.jsonl", options_.resume ? step_ : -1);
  }
  const auto validate = [&]() {
    const nlohmann::json rec = hooks.validate(step_);
    metrics->append(rec);
    last_validation_ = rec;
    return rec;
  };
  if (group) broadcast_weights();  // after --init / resume: rank 0's weights everywhere
  const BatchShard batch = shard();
  MetricsWindow window;
  const int64_t first_step = step_;
  while (step_ < train.steps) {
    if (options_.stop_after_steps >= 0 && step_ - first_step >= options_.stop_after_steps) break;
    model_.train();
    set_learning_rate(optimizer_, train.learning_rate_at(step_));
    optimizer_.zero_grad();
    StepOutput out = hooks.step(step_, batch);
    double loss_value = out.loss.item<double>();
    if (group) average_over_ranks(loss_value, out.scalars);
    if (!std::isfinite(loss_value)) {
      throw Error(options_.label + ": the loss became non-finite at step " + std::to_string(step_) +
                  " (try a lower learning_rate or a higher grad_clip); the last checkpoint in " +
                  last_dir().string() + " is intact");
    }
    out.loss.backward();
    if (group) group->average_gradients(model_.parameters());
    const double grad_norm = clip_gradients(model_.parameters(), train.grad_clip);
    optimizer_.step();
    ema_update(ema_, model_, train.ema_decay_at(step_));
    ++step_;
    if (!writer) continue;
    window.add(loss_value, grad_norm, out.scalars);
    if (step_ % train.log_every == 0 || step_ == train.steps) {
      metrics->append(window.take(step_, train, batch.global));
    }
    after_step(train, step_, loss_value, options_.progress_label, static_cast<bool>(hooks.validate),
               validate, [&](bool best) { save(hooks, best); }, best_validation_, log, progress);
  }
  if (writer && step_ % train.checkpoint_every != 0 && step_ != train.steps) save(hooks, false);
}

}  // namespace momu
