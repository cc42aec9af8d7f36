// BVH parsing, writing and forward kinematics (export from positions: bvh_export.cpp).
#include "momu/io/bvh.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <set>

#include "core/atomic_file.h"
#include "io/io_limits.h"
#include "momu/core/error.h"
#include "motion/rotation.h"

namespace momu {

using rot3::Mat3;
using rot3::Vec3;

namespace {

const char* channel_name(BvhChannel c) {
  switch (c) {
    case BvhChannel::kXposition:
      return "Xposition";
    case BvhChannel::kYposition:
      return "Yposition";
    case BvhChannel::kZposition:
      return "Zposition";
    case BvhChannel::kXrotation:
      return "Xrotation";
    case BvhChannel::kYrotation:
      return "Yrotation";
    case BvhChannel::kZrotation:
      return "Zrotation";
  }
  return "";
}

bool is_rotation(BvhChannel c) { return c >= BvhChannel::kXrotation; }
int channel_axis(BvhChannel c) { return static_cast<int>(c) % 3; }

using io_limits::quoted_excerpt;
using io_limits::short_number;

bool parse_double(const std::string& s, double& out) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  auto res = std::from_chars(b, e, out);
  return res.ec == std::errc() && res.ptr == e && std::isfinite(out);
}

// Whitespace-separated tokens with their line numbers.
class Lexer {
 public:
  Lexer(const std::string& text, const std::string& what) : what_(what) {
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      lines_.push_back(text.substr(start, end - start));
      start = end + 1;
    }
    tokenize_line();
  }

  [[noreturn]] void fail(const std::string& msg) const {
    throw FormatError(what_ + ": line " + std::to_string(line_number()) + ": " + msg);
  }
  int line_number() const { return static_cast<int>(std::min(line_, lines_.size() - 1)) + 1; }
  bool at_end() const { return line_ >= lines_.size(); }

  std::string next(const std::string& expected) {
    if (at_end()) {
      throw FormatError(what_ + ": line " + std::to_string(lines_.size()) +
                        ": the file ends where " + expected + " was expected (truncated?)");
    }
    std::string tok = tokens_[pos_++];
    if (pos_ >= tokens_.size()) advance_line();
    return tok;
  }
  std::string peek() const { return at_end() ? std::string() : tokens_[pos_]; }

  void expect(const std::string& word) {
    const int line = line_number();
    const std::string tok = next("'" + word + "'");
    if (tok != word) {
      throw FormatError(what_ + ": line " + std::to_string(line) + ": expected '" + word +
                        "', found " + quoted_excerpt(tok));
    }
  }
  double number(const std::string& what) {
    const int line = line_number();
    const std::string tok = next(what);
    double v = 0;
    if (!parse_double(tok, v)) {
      throw FormatError(what_ + ": line " + std::to_string(line) + ": " + what +
                        " must be a number, found " + quoted_excerpt(tok));
    }
    return v;
  }
  // The rest of the current line joined by single spaces (a joint name), leaving a trailing '{'.
  std::string rest_of_line(const std::string& expected) {
    if (at_end()) next(expected);
    const size_t line = line_;
    std::string out;
    while (!at_end() && line_ == line && !(tokens_[pos_] == "{")) {
      out += (out.empty() ? "" : " ") + next(expected);
    }
    if (out.empty()) fail(expected + " is missing");
    return out;
  }
  // Raw lines after the current token's line (the frame table).
  size_t next_line_index() const { return pos_ == 0 ? line_ : line_ + 1; }
  // Bytes of the raw lines from `first` on (newlines included).
  size_t bytes_from(size_t first) const {
    size_t n = 0;
    for (size_t i = first; i < lines_.size(); ++i) n += lines_[i].size() + 1;
    return n;
  }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  void advance_line() {
    ++line_;
    tokenize_line();
  }
  void tokenize_line() {
    pos_ = 0;
    tokens_.clear();
    while (line_ < lines_.size()) {
      const std::string& l = lines_[line_];
      size_t i = 0;
      while (i < l.size()) {
        while (i < l.size() && std::isspace(static_cast<unsigned char>(l[i]))) ++i;
        size_t j = i;
        while (j < l.size() && !std::isspace(static_cast<unsigned char>(l[j]))) ++j;
        if (j > i) tokens_.push_back(l.substr(i, j - i));
        i = j;
      }
      if (!tokens_.empty()) return;
      ++line_;
    }
  }

  std::string what_;
  std::vector<std::string> lines_;
  std::vector<std::string> tokens_;
  size_t line_ = 0;
  size_t pos_ = 0;
};

BvhChannel parse_channel(Lexer& lex) {
  const int line = lex.line_number();
  const std::string tok = lex.next("a channel name");
  std::string lower = tok;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static const char* names[] = {"xposition", "yposition", "zposition",
                                "xrotation", "yrotation", "zrotation"};
  for (int i = 0; i < 6; ++i) {
    if (lower == names[i]) return static_cast<BvhChannel>(i);
  }
  throw FormatError("line " + std::to_string(line) + ": unknown channel " + quoted_excerpt(tok));
}

// Adds a joint (or End Site) to bvh.joints, refusing hierarchies past io_limits::kMaxJoints.
void add_joint(Lexer& lex, Bvh& bvh, BvhJoint joint) {
  if (static_cast<int64_t>(bvh.joints.size()) >= io_limits::kMaxJoints) {
    lex.fail("HIERARCHY: more than " + std::to_string(io_limits::kMaxJoints) +
             " joints and End Sites (momu reads at most that many)");
  }
  bvh.joints.push_back(std::move(joint));
}

// depth: 0 for the ROOT; the recursion stops at io_limits::kMaxBvhDepth levels.
void parse_joint(Lexer& lex, Bvh& bvh, int parent, const std::string& name, int& channels,
                 int depth) {
  if (depth >= io_limits::kMaxBvhDepth) {
    lex.fail("HIERARCHY: JOINT " + quoted_excerpt(name) + " is nested deeper than " +
             std::to_string(io_limits::kMaxBvhDepth) + " levels (momu reads at most that many)");
  }
  const int index = static_cast<int>(bvh.joints.size());
  BvhJoint joint;
  joint.name = name;
  joint.parent = parent;
  add_joint(lex, bvh, joint);
  lex.expect("{");
  lex.expect("OFFSET");
  for (int d = 0; d < 3; ++d) bvh.joints[index].offset[d] = lex.number("OFFSET value");
  if (lex.peek() == "CHANNELS") {
    lex.next("CHANNELS");
    const double n = lex.number("the channel count");
    if (n < 0 || n > 6 || n != std::floor(n)) lex.fail("channel count must be 0..6");
    for (int c = 0; c < static_cast<int>(n); ++c) {
      bvh.joints[index].channels.push_back(parse_channel(lex));
    }
  } else {
    lex.fail("expected CHANNELS in joint " + quoted_excerpt(name));
  }
  bvh.joints[index].first_channel = channels;
  channels += static_cast<int>(bvh.joints[index].channels.size());
  while (true) {
    const int line = lex.line_number();
    const std::string tok = lex.next("'}' closing joint " + quoted_excerpt(name));
    if (tok == "}") break;
    if (tok == "JOINT") {
      parse_joint(lex, bvh, index, lex.rest_of_line("a joint name"), channels, depth + 1);
    } else if (tok == "End") {
      lex.expect("Site");
      BvhJoint end;
      end.name = name + "_end";
      end.parent = index;
      end.end_site = true;
      end.first_channel = channels;
      lex.expect("{");
      lex.expect("OFFSET");
      for (int d = 0; d < 3; ++d) end.offset[d] = lex.number("OFFSET value");
      lex.expect("}");
      add_joint(lex, bvh, end);
    } else {
      throw FormatError("line " + std::to_string(line) + ": expected JOINT, End Site or '}' in " +
                        quoted_excerpt(name) + ", found " + quoted_excerpt(tok));
    }
  }
}

}  // namespace

int Bvh::num_channels() const {
  int n = 0;
  for (const auto& j : joints) n += static_cast<int>(j.channels.size());
  return n;
}

double Bvh::fps() const {
  const double f = 1.0 / frame_time_s;
  return std::abs(f - std::round(f)) < 0.01 ? std::round(f) : f;
}

void Bvh::validate(const std::string& what) const {
  if (joints.empty()) throw FormatError(what + ": BVH has no joints");
  if (!(frame_time_s > 0) || !std::isfinite(frame_time_s)) {
    throw FormatError(what + ": Frame Time must be positive");
  }
  int channel = 0;
  std::set<std::string> names;
  for (size_t i = 0; i < joints.size(); ++i) {
    const auto& j = joints[i];
    if ((i == 0) != (j.parent == -1) || j.parent >= static_cast<int>(i)) {
      throw FormatError(what + ": joint " + quoted_excerpt(j.name) + " has an invalid parent");
    }
    if (j.end_site && !j.channels.empty()) {
      throw FormatError(what + ": End Site " + quoted_excerpt(j.name) + " cannot have channels");
    }
    if (j.first_channel != channel) throw FormatError(what + ": channel layout is inconsistent");
    if (!names.insert(j.name).second) {
      throw FormatError(what + ": joint name " + quoted_excerpt(j.name) + " repeats");
    }
    channel += static_cast<int>(j.channels.size());
  }
  if (!frames.defined() || frames.dim() != 2 || frames.size(1) != channel ||
      frames.scalar_type() != torch::kFloat64) {
    throw FormatError(what + ": expected frames [T, " + std::to_string(channel) +
                      "] float64, got " + (frames.defined() ? c10::str(frames.sizes()) : "none"));
  }
}

Bvh parse_bvh(const std::string& text, const std::string& what) {
  Lexer lex(text, what);
  Bvh bvh;
  try {
    lex.expect("HIERARCHY");
    lex.expect("ROOT");
    int channels = 0;
    parse_joint(lex, bvh, -1, lex.rest_of_line("the root name"), channels, 0);
    lex.expect("MOTION");
    std::string tok = lex.next("'Frames:'");
    double n_frames = 0;
    if (tok == "Frames:") {
      n_frames = lex.number("the frame count");
    } else if (tok.rfind("Frames:", 0) == 0 && parse_double(tok.substr(7), n_frames)) {
    } else {
      lex.fail("expected 'Frames:', found " + quoted_excerpt(tok));
    }
    if (n_frames < 0 || n_frames != std::floor(n_frames)) lex.fail("bad frame count");
    if (n_frames > static_cast<double>(io_limits::kMaxFrames)) {
      // Cast only when it fits: 1e81 frames is no int64 (undefined behaviour).
      lex.fail("Frames: " +
               (n_frames < 9.0e18 ? std::to_string(static_cast<int64_t>(n_frames))
                                  : short_number(n_frames)) +
               " is more than momu reads (at most " + std::to_string(io_limits::kMaxFrames) + ")");
    }
    lex.expect("Frame");
    tok = lex.next("'Time:'");
    if (tok == "Time:") {
      bvh.frame_time_s = lex.number("the frame time");
    } else if (tok.rfind("Time:", 0) == 0 && parse_double(tok.substr(5), bvh.frame_time_s)) {
    } else {
      lex.fail("expected 'Frame Time:', found " + quoted_excerpt(tok));
    }
    if (!(bvh.frame_time_s > 0)) lex.fail("Frame Time must be positive");
    if (bvh.frame_time_s < 1.0 / io_limits::kMaxFps ||
        bvh.frame_time_s > 1.0 / io_limits::kMinFps) {
      lex.fail("Frame Time " + short_number(bvh.frame_time_s) + " s is " +
               short_number(1.0 / bvh.frame_time_s) + " frames per second; momu reads " +
               short_number(io_limits::kMinFps) + " to " + short_number(io_limits::kMaxFps));
    }
    const int64_t T = static_cast<int64_t>(n_frames);
    if (static_cast<double>(T) * bvh.frame_time_s > io_limits::kMaxMotionSeconds) {
      lex.fail("Frames: " + std::to_string(T) + " at Frame Time " + short_number(bvh.frame_time_s) +
               " s is longer than momu reads (at most " +
               short_number(io_limits::kMaxMotionSeconds / 3600.0) + " h)");
    }
    // The frame table: one line per frame, C numbers each (blank lines skipped). Every value
    // takes at least 2 bytes (a digit and a separator), so the rest of the file holds at most
    // `fit` frames: the table is allocated for no more than that, whatever Frames: claims (a
    // count the file cannot hold ends in the truncation error below, with the frames found).
    const int C = channels;
    const auto& lines = lex.lines();
    size_t li = lex.next_line_index();
    const int64_t fit =
        C == 0 ? T : static_cast<int64_t>(lex.bytes_from(li) / (2 * static_cast<size_t>(C))) + 1;
    const int64_t rows = std::min(T, fit);
    bvh.frames = torch::zeros({rows, C}, torch::kFloat64);
    double* out = bvh.frames.data_ptr<double>();
    int64_t t = 0;
    for (; li < lines.size() && t < T; ++li) {
      const std::string& l = lines[li];
      const char* p = l.data();
      const char* e = p + l.size();
      int c = 0;
      while (true) {
        while (p < e && std::isspace(static_cast<unsigned char>(*p))) ++p;
        if (p == e) break;
        if (*p == '+') ++p;
        double v = 0;
        auto res = std::from_chars(p, e, v);
        if (res.ec != std::errc() ||
            (res.ptr < e && !std::isspace(static_cast<unsigned char>(*res.ptr)))) {
          throw FormatError(what + ": line " + std::to_string(li + 1) + ": frame " +
                            std::to_string(t) + " holds something that is not a number");
        }
        if (c < C && t < rows) out[t * C + c] = v;
        ++c;
        p = res.ptr;
      }
      if (c == 0) continue;  // blank line
      if (c != C) {
        throw FormatError(what + ": line " + std::to_string(li + 1) + ": frame " +
                          std::to_string(t) + " has " + std::to_string(c) + " values, expected " +
                          std::to_string(C) + (li + 1 == lines.size() ? " (truncated?)" : ""));
      }
      ++t;
    }
    if (t < T) {
      throw FormatError(what + ": line " + std::to_string(lines.size()) + ": MOTION announces " +
                        std::to_string(T) + " frames but the file ends after " + std::to_string(t) +
                        " (truncated)");
    }
    // Lines after the announced frames are ignored: some exporters write one frame more than
    // they announce (assimp's Boxing_Toes.bvh announces 3069 and holds 3070).
  } catch (const FormatError& e) {
    const std::string msg = e.what();
    if (msg.rfind(what, 0) == 0) throw;
    throw FormatError(what + ": " + msg);
  }
  bvh.validate(what);
  if (!torch::isfinite(bvh.frames).all().item<bool>()) {
    throw FormatError(what + ": the frame table holds NaN or infinite values");
  }
  return bvh;
}

Bvh read_bvh(const std::filesystem::path& path) {
  return parse_bvh(read_file_bytes(path), path.string());
}

std::string bvh_string(const Bvh& bvh) {
  bvh.validate();
  std::string out = "HIERARCHY\n";
  char buf[64];
  auto offset_line = [&](const BvhJoint& j, const std::string& indent) {
    std::snprintf(buf, sizeof(buf), "OFFSET %.6f %.6f %.6f\n", j.offset[0], j.offset[1],
                  j.offset[2]);
    out += indent + buf;
  };
  // Depth-first in file order (parents precede children, so recursion over children suffices).
  std::vector<std::vector<int>> children(bvh.joints.size());
  for (size_t i = 1; i < bvh.joints.size(); ++i) children[bvh.joints[i].parent].push_back(i);
  std::function<void(int, int)> emit = [&](int i, int depth) {
    const auto& j = bvh.joints[i];
    const std::string indent(depth * 2, ' ');
    if (j.end_site) {
      out += indent + "End Site\n" + indent + "{\n";
      offset_line(j, indent + "  ");
      out += indent + "}\n";
      return;
    }
    out += indent + (j.parent < 0 ? "ROOT " : "JOINT ") + j.name + "\n" + indent + "{\n";
    offset_line(j, indent + "  ");
    out += indent + "  CHANNELS " + std::to_string(j.channels.size());
    for (auto c : j.channels) out += std::string(" ") + channel_name(c);
    out += "\n";
    for (int c : children[i]) emit(c, depth + 1);
    out += indent + "}\n";
  };
  emit(0, 0);
  const int64_t T = bvh.num_frames();
  const int C = bvh.num_channels();
  std::snprintf(buf, sizeof(buf), "%.9g", bvh.frame_time_s);
  out += "MOTION\nFrames: " + std::to_string(T) + "\nFrame Time: " + buf + "\n";
  auto frames = bvh.frames.contiguous();
  const double* v = frames.data_ptr<double>();
  out.reserve(out.size() + static_cast<size_t>(T * C) * 11);
  for (int64_t t = 0; t < T; ++t) {
    for (int c = 0; c < C; ++c) {
      const double x = v[t * C + c];
      std::snprintf(buf, sizeof(buf), c == 0 ? "%.6f" : " %.6f", x == 0.0 ? 0.0 : x);
      out += buf;
    }
    out += "\n";
  }
  return out;
}

void write_bvh(const std::filesystem::path& path, const Bvh& bvh) {
  bvh.validate(path.string());
  write_bytes_atomically(path, bvh_string(bvh));
}

at::Tensor bvh_forward_kinematics(const Bvh& bvh) {
  bvh.validate();
  const int64_t T = bvh.num_frames();
  const int64_t N = static_cast<int64_t>(bvh.joints.size());
  const int C = bvh.num_channels();
  auto positions = torch::empty({T, N, 3}, torch::kFloat64);
  double* out = positions.data_ptr<double>();
  auto frames = bvh.frames.contiguous();
  const double* v = frames.data_ptr<double>();
  std::vector<Mat3> rot(N);
  std::vector<Vec3> pos(N);
  constexpr double kDeg = M_PI / 180.0;
  for (int64_t t = 0; t < T; ++t) {
    const double* row = v + t * C;
    for (int64_t i = 0; i < N; ++i) {
      const auto& j = bvh.joints[i];
      Vec3 local_t{j.offset[0], j.offset[1], j.offset[2]};
      Mat3 local_r = rot3::identity();
      for (size_t c = 0; c < j.channels.size(); ++c) {
        const double x = row[j.first_channel + c];
        if (is_rotation(j.channels[c])) {
          local_r = rot3::mul(local_r, rot3::axis_rotation(channel_axis(j.channels[c]), x * kDeg));
        } else {
          local_t[channel_axis(j.channels[c])] += x;
        }
      }
      if (j.parent < 0) {
        rot[i] = local_r;
        pos[i] = local_t;
      } else {
        rot[i] = rot3::mul(rot[j.parent], local_r);
        pos[i] = rot3::add(pos[j.parent], rot3::apply(rot[j.parent], local_t));
      }
      for (int d = 0; d < 3; ++d) out[(t * N + i) * 3 + d] = pos[i][d];
    }
  }
  return positions;
}

Skeleton bvh_skeleton(const Bvh& bvh, const BvhImportOptions& options) {
  bvh.validate();
  Skeleton s;
  s.name = "bvh";
  std::vector<int> index(bvh.joints.size(), -1);
  for (size_t i = 0; i < bvh.joints.size(); ++i) {
    const auto& j = bvh.joints[i];
    if (j.end_site && !options.include_end_sites) continue;
    index[i] = s.num_joints();
    s.joint_names.push_back(j.name);
    s.parents.push_back(j.parent < 0 ? -1 : index[j.parent]);
    std::string lower = j.name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower.find("foot") != std::string::npos || lower.find("toe") != std::string::npos ||
        lower.find("ankle") != std::string::npos) {
      s.foot_joints.push_back(index[i]);
    }
  }
  for (int p = 0; p < s.num_joints(); ++p) {
    if (s.parents[p] >= 0) s.bones.emplace_back(s.parents[p], p);
  }
  s.dim = 3;
  s.up_axis = 1;
  s.root = 0;
  s.validate();
  return s;
}

Motion bvh_to_motion(const Bvh& bvh, const BvhImportOptions& options) {
  auto positions = bvh_forward_kinematics(bvh);
  if (!options.include_end_sites) {
    std::vector<int64_t> keep;
    for (size_t i = 0; i < bvh.joints.size(); ++i) {
      if (!bvh.joints[i].end_site) keep.push_back(static_cast<int64_t>(i));
    }
    positions = positions.index_select(1, torch::tensor(keep, torch::kLong));
  }
  Motion m;
  m.joints = positions.to(torch::kFloat32);
  m.fps = bvh.fps();
  m.skeleton = bvh_skeleton(bvh, options);
  return m;
}

}  // namespace momu
