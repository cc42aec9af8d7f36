#include "train/data_parallel.h"

#include <torch/torch.h>

#include <chrono>
#include <utility>

#include "momu/core/error.h"

// CMake defines MOMU_HAVE_C10D (and USE_C10D_GLOO, which c10d's Gloo header needs) for this file
// alone when gloo's headers are installed (Debian: libgloo-dev); MOMU_HAVE_C10D_NCCL with a CUDA
// LibTorch whose c10d has NCCL.
#if MOMU_HAVE_C10D
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#if MOMU_HAVE_C10D_NCCL
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace momu {

#if MOMU_HAVE_C10D

namespace {

constexpr int64_t kBucketValues = int64_t{16} << 20;  // 64 MB of float32 per all-reduce

std::string message_of(const std::exception& e) {
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) return c10->what_without_backtrace();
  return e.what();
}

bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

}  // namespace

struct RankGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> gloo;  // CPU tensors
#if MOMU_HAVE_C10D_NCCL
  c10::intrusive_ptr<c10d::ProcessGroup> nccl;  // CUDA tensors
#endif
  // The group a tensor's collective runs on; CUDA tensors without NCCL go through the CPU.
  c10d::ProcessGroup& group_for(const at::Tensor& t) {
#if MOMU_HAVE_C10D_NCCL
    if (t.is_cuda()) return *nccl;
#endif
    return *gloo;
  }
  bool stages_on_cpu(const at::Tensor& t) const {
#if MOMU_HAVE_C10D_NCCL
    return false;
#else
    return !t.device().is_cpu();
#endif
  }
};

std::shared_ptr<RankGroup> RankGroup::join(const DistributedConfig& config,
                                           const std::string& label) {
  config.validate();
  const std::string who = label + ": " + config.describe();
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(config.timeout_s * 1000.0));
  auto impl = std::make_unique<Impl>();
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(config.master_port);
    store_options.isServer = config.rank == 0;
    store_options.numWorkers = config.world_size;
    store_options.timeout = timeout;
    impl->store = c10::make_intrusive<c10d::TCPStore>(config.master_addr, store_options);
  } catch (const std::exception& e) {
    const std::string where = config.master_addr + ":" + std::to_string(config.master_port);
    throw Error(who + ": " +
                (config.rank == 0
                     ? "could not serve the rendezvous at " + where
                     : "could not reach rank 0 at " + where + " within " +
                           std::to_string(static_cast<int64_t>(config.timeout_s)) + " s") +
                " (" + message_of(e) +
                "); every rank needs the same --master: rank 0's address and a port free there");
  }
  try {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // Gloo's own connections: on the loopback device for a master on this machine; else the
    // interface named by GLOO_SOCKET_IFNAME, or the one this machine's host name resolves to.
    if (is_loopback(config.master_addr)) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    impl->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, config.rank,
                                                             config.world_size, options);
#if MOMU_HAVE_C10D_NCCL
    auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
    nccl_options->timeout = timeout;
    auto nccl_store = c10::make_intrusive<c10d::PrefixStore>("nccl", impl->store);
    impl->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(nccl_store, config.rank,
                                                             config.world_size, nccl_options);
#endif
  } catch (const std::exception& e) {
    throw Error(who + ": could not connect to the other ranks (" + message_of(e) + ")");
  }
  return std::shared_ptr<RankGroup>(new RankGroup(config, label, std::move(impl)));
}

template <typename F>
void RankGroup::collective(const char* what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    throw Error(label_ + ": " + config_.describe() + ": lost contact with the other ranks during " +
                what + " (" + message_of(e) +
                "); a rank ended or the network failed. The last checkpoint is whole: resume "
                "every rank with --resume");
  }
}

void RankGroup::broadcast(const std::vector<at::Tensor>& tensors) {
  collective("the weight broadcast", [&] {
    torch::NoGradGuard no_grad;
    for (const at::Tensor& t : tensors) {
      TORCH_CHECK(t.is_contiguous(), "broadcast: a tensor is not contiguous");
      std::vector<at::Tensor> one{impl_->stages_on_cpu(t) ? t.cpu() : t};
      impl_->group_for(one[0]).broadcast(one)->wait();
      if (!one[0].is_same(t)) t.copy_(one[0]);
    }
  });
}

void RankGroup::average_gradients(const std::vector<at::Tensor>& parameters) {
  collective("the gradient all-reduce", [&] {
    torch::NoGradGuard no_grad;
    // Buckets of consecutive parameters of one dtype and device, flattened into one tensor each.
    std::vector<std::vector<at::Tensor>> buckets;
    int64_t filled = 0;
    for (const at::Tensor& p : parameters) {
      if (!p.requires_grad()) continue;
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      const at::Tensor& g = p.grad();
      const bool fits = !buckets.empty() && filled + g.numel() <= kBucketValues &&
                        buckets.back().front().scalar_type() == g.scalar_type() &&
                        buckets.back().front().device() == g.device();
      if (!fits) {
        buckets.emplace_back();
        filled = 0;
      }
      buckets.back().push_back(g);
      filled += g.numel();
    }
    std::vector<at::Tensor> flat;
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (const auto& bucket : buckets) {
      std::vector<at::Tensor> views;
      for (const auto& g : bucket) views.push_back(g.reshape({-1}));
      at::Tensor f = torch::cat(views);
      if (impl_->stages_on_cpu(f)) f = f.cpu();
      flat.push_back(f);
      std::vector<at::Tensor> one{f};
      works.push_back(impl_->group_for(f).allreduce(one));
    }
    for (auto& w : works) w->wait();
    const double scale = 1.0 / static_cast<double>(config_.world_size);
    for (size_t b = 0; b < buckets.size(); ++b) {
      int64_t at = 0;
      for (const auto& g : buckets[b]) {
        g.copy_(flat[b].narrow(0, at, g.numel()).view_as(g));
        g.mul_(scale);
        at += g.numel();
      }
    }
  });
}

void RankGroup::sum(at::Tensor& values) {
  collective("the metrics all-reduce", [&] {
    std::vector<at::Tensor> one{values};
    impl_->gloo->allreduce(one)->wait();
  });
}

void RankGroup::barrier() {
  collective("a barrier", [&] { impl_->gloo->barrier()->wait(); });
}

#else  // no c10d in this build

struct RankGroup::Impl {};

std::shared_ptr<RankGroup> RankGroup::join(const DistributedConfig& config,
                                           const std::string& label) {
  config.validate();
  throw ConfigError(label +
                    ": this build has no distributed training (install libgloo-dev and "
                    "rebuild), so --world-size must be 1");
}
void RankGroup::broadcast(const std::vector<at::Tensor>&) {}
void RankGroup::average_gradients(const std::vector<at::Tensor>&) {}
void RankGroup::sum(at::Tensor&) {}
void RankGroup::barrier() {}

#endif

RankGroup::RankGroup(DistributedConfig config, std::string label, std::unique_ptr<Impl> impl)
    : config_(std::move(config)), label_(std::move(label)), impl_(std::move(impl)) {}

RankGroup::~RankGroup() = default;

}  // namespace momu
