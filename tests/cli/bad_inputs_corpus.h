// The corpus of tests/cli/test_bad_inputs.cpp: byte-level makers of bad files, a momu runner,
// snapshots of a folder, and the BadInputs fixture that builds the corpus once per suite
// (bad_inputs_corpus.cpp) and checks each refused run (see test_bad_inputs.cpp for what a row must
// satisfy).
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "cli/momu_process.h"
#include "core/atomic_file.h"
#include "core/json_file.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "momu/io/audio_file.h"
#include "momu/io/motion_file.h"
#include "momu/motion/skeleton.h"
#include "test_util.h"
#include "train/synthetic_dataset.h"

namespace momu::bad_inputs {

namespace fs = std::filesystem;

// --- bytes ----------------------------------------------------------------------------------

inline void write_bytes(const fs::path& p, const std::string& bytes) {
  if (fs::is_symlink(p)) fs::remove(p);  // never write through a link into the shipped model
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

inline std::string first_half(const fs::path& p) {
  const std::string bytes = read_file_bytes(p);
  return bytes.substr(0, bytes.size() / 2);
}

// `n` bytes of no file format (a fixed seed: the same corpus every run).
inline std::string noise(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(gen() & 0xff);
  return out;
}

inline void put_le(std::string& s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// An .npy whose header says `descr` and `shape`, followed by `payload` (which may not match).
inline std::string npy_claiming(const std::string& descr, const std::vector<int64_t>& shape,
                                const std::string& payload) {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims +
                       (shape.size() == 1 ? ",), }" : "), }");
  header += std::string(63 - (10 + header.size()) % 64, ' ') + "\n";
  std::string out("\x93NUMPY\x01\x00", 8);
  put_le(out, header.size(), 2);
  return out + header + payload;
}

// A mono 22050 Hz WAV: format 1 (PCM16) or 3 (float32) holding `data`; its data chunk claims
// `claimed` bytes (default: the bytes given).
inline std::string wav_claiming(int format, const std::string& data, int64_t claimed = -1) {
  const int bytes_per_sample = format == 1 ? 2 : 4;
  const uint64_t size = claimed < 0 ? data.size() : static_cast<uint64_t>(claimed);
  std::string out = "RIFF";
  put_le(out, std::min<uint64_t>(36 + size, 0xffffffffu), 4);
  out += "WAVEfmt ";
  for (auto [v, n] : {std::pair<uint64_t, int>{16, 4},
                      {format, 2},
                      {1, 2},
                      {22050, 4},
                      {22050 * bytes_per_sample, 4},
                      {bytes_per_sample, 2},
                      {8 * bytes_per_sample, 2}}) {
    put_le(out, v, n);
  }
  out += "data";
  put_le(out, size, 4);
  return out + data;
}

// A safetensors file of one F32 tensor "latent" whose header claims `shape` and holds `data`.
inline std::string safetensors_claiming(const std::vector<int64_t>& shape,
                                        const std::string& data) {
  const std::string h =
      nlohmann::json{
          {"__metadata__", {{"modality", "music"}}},
          {"latent", {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {0, data.size()}}}}}
          .dump();
  std::string out;
  put_le(out, h.size(), 8);
  return out + h + data;
}

// --- running momu ---------------------------------------------------------------------------

inline std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Result {
  int code = -1;
  std::string out, err;
};

// `momu --threads 1 -q args...`; `unprivileged`: as user nobody (setpriv) when the test runs as
// root, which reads a chmod 000 file and writes into a 0555 folder.
inline Result run_momu(const std::vector<std::string>& args, const fs::path& logs,
                       bool unprivileged) {
  std::string cmd = "OMP_WAIT_POLICY=PASSIVE ";  // momu then does not start itself again
  if (unprivileged && ::geteuid() == 0) {
    cmd += "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  }
  cmd += sh_quote(test::momu_binary()) + " --threads 1 -q";
  for (const auto& a : args) cmd += " " + sh_quote(a);
  cmd += " > " + sh_quote((logs / "stdout").string()) + " 2> " +
         sh_quote((logs / "stderr").string()) + " < /dev/null";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file_bytes(logs / "stdout"),
          read_file_bytes(logs / "stderr")};
}

// Every entry under `dir`, links not followed: files by size and modification time, links by
// their target, folders by name (what "nothing was written or changed" compares).
inline std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    std::string& e = out[it->path().lexically_relative(dir).string()];
    if (it->is_symlink()) {
      e = "-> " + fs::read_symlink(it->path()).string();
    } else if (it->is_directory()) {
      e = "folder";
    } else {
      e = std::to_string(it->file_size()) + " bytes, modified " +
          std::to_string(fs::last_write_time(it->path()).time_since_epoch().count());
    }
  }
  return out;
}

inline std::string changes(const std::map<std::string, std::string>& before,
                           const std::map<std::string, std::string>& after) {
  std::string out;
  for (const auto& [k, v] : after) {
    auto it = before.find(k);
    if (it == before.end()) out += "  created " + k + "\n";
    if (it != before.end() && it->second != v) out += "  changed " + k + ": " + v + "\n";
  }
  for (const auto& [k, v] : before) {
    if (!after.count(k)) out += "  removed " + k + "\n";
  }
  return out;
}

// One momu run on a bad input. In args, named and output, "@x" is the corpus file x.
struct Row {
  std::vector<std::string> args;   // after "momu --threads 1 -q"
  int code;                        // README, "Exit codes"
  std::vector<std::string> named;  // stderr names each: the offending file, where it is
  std::string problem;             // and says this about it
  std::string output;              // absent: stays absent; a file: stays as it was
};

inline Row bad(std::vector<std::string> args, int code, std::vector<std::string> named,
               std::string problem, std::string output = "") {
  return {std::move(args), code, std::move(named), std::move(problem), std::move(output)};
}

class BadInputs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    corpus_ = new test::TempDir;
    logs_ = new test::TempDir;
    try {
      make_corpus();
    } catch (const std::exception& e) {
      setup_error_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    delete corpus_;
    delete logs_;
    corpus_ = logs_ = nullptr;
  }
  void SetUp() override {
    MOMU_REQUIRE_DIR(shipped() / "vae");
    ASSERT_TRUE(setup_error_.empty()) << "making the corpus: " << setup_error_;
  }

  static fs::path at(const std::string& rel) { return corpus_->path() / rel; }
  static std::string s(const std::string& rel) { return at(rel).string(); }
  static std::string expand(const std::string& a) {
    return a.rfind('@', 0) == 0 ? s(a.substr(1)) : a;
  }
  static fs::path shipped() { return test::source_dir() / "models" / "default"; }
  static std::string config(const std::string& name) {
    return (test::source_dir() / "configs" / name).string();
  }

  static void make_corpus();
  static fs::path model_variant(const std::string& name);
  static fs::path data_variant(const std::string& name);

  static void expect_refused(const std::vector<Row>& rows, bool unprivileged = false) {
    for (const Row& row : rows) {
      std::vector<std::string> args;
      std::string line = "momu";
      for (const auto& a : row.args) {
        args.push_back(expand(a));
        line += " " + args.back();
      }
      SCOPED_TRACE(line);
      const fs::path output = row.output.empty() ? fs::path() : fs::path(expand(row.output));
      const bool existed = !output.empty() && fs::exists(output);
      const std::string earlier =
          existed && fs::is_regular_file(output) ? read_file_bytes(output) : "";
      const auto before = snapshot(corpus_->path());
      const Result r = run_momu(args, logs_->path(), unprivileged);
      EXPECT_EQ(r.code, row.code) << r.err;
      for (const auto& n : row.named) {
        EXPECT_NE(r.err.find(expand(n)), std::string::npos)
            << "does not name " << expand(n) << ": " << r.err;
      }
      EXPECT_NE(r.err.find(row.problem), std::string::npos)
          << "does not say \"" << row.problem << "\": " << r.err;
      EXPECT_TRUE(r.out.empty()) << "a report was printed: " << r.out;
      if (!output.empty()) {
        if (!existed) EXPECT_FALSE(fs::exists(output)) << output << " was created";
        if (existed && fs::is_regular_file(output)) {
          EXPECT_EQ(read_file_bytes(output), earlier) << output << " was changed";
        }
        if (fs::is_directory(output.parent_path())) {
          EXPECT_TRUE(test::any_temporaries(output.parent_path()).empty())
              << "a temporary beside " << output;
        }
      }
      const std::string diff = changes(before, snapshot(corpus_->path()));
      EXPECT_TRUE(diff.empty()) << "the run wrote:\n" << diff;
    }
  }

  inline static test::TempDir* corpus_ = nullptr;
  inline static test::TempDir* logs_ = nullptr;
  inline static std::string setup_error_;
};

}  // namespace momu::bad_inputs
