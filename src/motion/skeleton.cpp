#include "momu/motion/skeleton.h"

#include <torch/torch.h>

#include <algorithm>
#include <deque>
#include <nlohmann/json.hpp>
#include <set>

#include "core/json_fields.h"
#include "core/shape.h"
#include "momu/core/error.h"

namespace momu {

namespace {

// Drawing bones equal to the tree edges (every skeleton but Dance with Melody).
std::vector<std::pair<int, int>> edges_of(const std::vector<int>& parents) {
  std::vector<std::pair<int, int>> edges;
  for (int p = 0; p < static_cast<int>(parents.size()); ++p) {
    if (parents[p] >= 0) edges.emplace_back(parents[p], p);
  }
  return edges;
}

Skeleton coco17_common() {
  Skeleton s;
  s.joint_names = {"nose",          "left_eye",       "right_eye",  "left_ear",    "right_ear",
                   "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
                   "right_wrist",   "left_hip",       "right_hip",  "left_knee",   "right_knee",
                   "left_ankle",    "right_ankle"};
  s.virtual_joints = {{"pelvis", 11, 12}, {"neck", 5, 6}};  // points 17, 18
  //           0   1  2  3  4  5   6   7  8  9  10  11  12  13  14  15  16  17  18
  s.parents = {18, 0, 0, 1, 2, 18, 18, 5, 6, 7, 8, 17, 17, 11, 12, 13, 14, -1, 17};
  s.bones = edges_of(s.parents);
  s.root = 17;
  s.foot_joints = {15, 16};
  return s;
}

std::string joined_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

void check_skeleton_joints(const at::Tensor& joints, const Skeleton& s, const char* fn) {
  if (!joints.defined() || joints.dim() < 2 || joints.size(-2) != s.num_joints() ||
      joints.size(-1) != s.dim) {
    throw ShapeError(std::string(fn) + ": expected joints [..., " + std::to_string(s.num_joints()) +
                     ", " + std::to_string(s.dim) + "] for skeleton '" + s.name + "', got " +
                     describe_shape(joints));
  }
  if (!joints.is_floating_point()) {
    throw ShapeError(std::string(fn) + ": joints must be a floating-point tensor");
  }
}

at::Tensor edge_lengths(const at::Tensor& points, const std::vector<std::pair<int, int>>& edges) {
  std::vector<int64_t> a, b;
  for (const auto& e : edges) {
    a.push_back(e.first);
    b.push_back(e.second);
  }
  auto ia = torch::tensor(a, torch::kLong).to(points.device());
  auto ib = torch::tensor(b, torch::kLong).to(points.device());
  return (points.index_select(-2, ib) - points.index_select(-2, ia)).norm(2, -1);
}

}  // namespace

const std::string& Skeleton::point_name(int p) const {
  if (p < 0 || p >= num_points()) {
    throw ConfigError("skeleton '" + name + "': point " + std::to_string(p) + " out of range");
  }
  return p < num_joints() ? joint_names[p] : virtual_joints[p - num_joints()].name;
}

int Skeleton::find_point(const std::string& point) const {
  for (int p = 0; p < num_points(); ++p) {
    if (point_name(p) == point) return p;
  }
  return -1;
}

std::vector<int> Skeleton::children(int p) const {
  std::vector<int> out;
  for (int c = 0; c < static_cast<int>(parents.size()); ++c) {
    if (parents[c] == p) out.push_back(c);
  }
  return out;
}

std::vector<std::pair<int, int>> Skeleton::tree_bones() const {
  std::vector<std::pair<int, int>> out;
  if (!has_tree()) return out;
  std::deque<int> queue{root};
  while (!queue.empty()) {
    const int p = queue.front();
    queue.pop_front();
    for (int c : children(p)) {
      out.emplace_back(p, c);
      queue.push_back(c);
    }
  }
  return out;
}

void Skeleton::validate() const {
  const std::string what = "skeleton '" + name + "'";
  if (joint_names.empty()) throw ConfigError(what + ": no joints");
  if (dim != 2 && dim != 3) throw ConfigError(what + ": dim must be 2 or 3");
  if (up_axis < 0 || up_axis >= dim) throw ConfigError(what + ": up_axis out of range");
  if (up_sign != 1 && up_sign != -1) throw ConfigError(what + ": up_sign must be 1 or -1");
  const int J = num_joints();
  const int P = num_points();
  std::set<std::string> names;
  for (int p = 0; p < P; ++p) {
    if (!names.insert(point_name(p)).second) {
      throw ConfigError(what + ": joint name '" + point_name(p) + "' repeats");
    }
  }
  for (const auto& v : virtual_joints) {
    if (v.a < 0 || v.a >= J || v.b < 0 || v.b >= J) {
      throw ConfigError(what + ": virtual joint '" + v.name + "' must average two real joints");
    }
  }
  auto in_range = [&](int p) { return p >= 0 && p < P; };
  for (const auto& b : bones) {
    if (!in_range(b.first) || !in_range(b.second) || b.first == b.second) {
      throw ConfigError(what + ": bone " + std::to_string(b.first) + "-" +
                        std::to_string(b.second) + " is invalid");
    }
  }
  if (!in_range(root)) throw ConfigError(what + ": root " + std::to_string(root) + " out of range");
  for (int f : foot_joints) {
    if (f < 0 || f >= J) throw ConfigError(what + ": foot joint " + std::to_string(f) + " invalid");
  }
  if (parents.empty()) return;
  if (static_cast<int>(parents.size()) != P) {
    throw ConfigError(what + ": parents has " + std::to_string(parents.size()) +
                      " entries, expected one per point (" + std::to_string(P) + ")");
  }
  for (int p = 0; p < P; ++p) {
    if (p == root ? parents[p] != -1 : !in_range(parents[p])) {
      throw ConfigError(what + ": parent of '" + point_name(p) + "' is invalid (only the root " +
                        "has parent -1)");
    }
  }
  if (static_cast<int>(tree_bones().size()) != P - 1) {
    throw ConfigError(what + ": parents do not form a tree reaching every point from the root");
  }
}

bool operator==(const Skeleton& a, const Skeleton& b) {
  return nlohmann::json(a) == nlohmann::json(b);
}

Skeleton dance_with_melody_skeleton() {
  Skeleton s;
  s.name = "dwm23";
  // Sides inferred from the data: with 11 and 20 as the toes (18 cm from the ankle; 10 and 19 at
  // 11 cm) and right-handed axes, the chains 3-6 and 7-11 are on the dancer's right.
  s.joint_names = {"head_0",      "head_1",        "pelvis",        "right_shoulder", "right_elbow",
                   "right_wrist", "right_hand",    "right_hip",     "right_knee",     "right_ankle",
                   "right_heel",  "right_toe",     "left_shoulder", "left_elbow",     "left_wrist",
                   "left_hand",   "left_hip",      "left_knee",     "left_ankle",     "left_heel",
                   "left_toe",    "left_hand_tip", "right_hand_tip"};
  // Points 23..26.
  s.virtual_joints = {
      {"head", 0, 1}, {"neck", 3, 12}, {"right_foot", 10, 11}, {"left_foot", 19, 20}};
  const int head = 23, neck = 24, rfoot = 25, lfoot = 26;
  // The README's edges, oriented away from the pelvis.
  s.bones = {{0, 1},     {neck, head}, {neck, 3}, {neck, 12}, {2, neck}, {3, 4},      {4, 5},
             {5, 6},     {12, 13},     {13, 14},  {14, 15},   {2, 7},    {7, 8},      {8, 9},
             {9, rfoot}, {10, 11},     {2, 16},   {16, 17},   {17, 18},  {18, lfoot}, {19, 20}};
  s.parents = {head, head, -1, neck, 3,  4,     5,     2,  7, 8,    rfoot, rfoot, neck, 12,
               13,   14,   2,  16,   17, lfoot, lfoot, 15, 6, neck, 2,     9,     18};
  s.dim = 3;
  s.up_axis = 1;
  s.root = 2;
  s.foot_joints = {9, 10, 11, 18, 19, 20};
  s.units = "cm";
  return s;
}

Skeleton openpose14_skeleton() {
  Skeleton s;
  s.name = "openpose14";
  s.joint_names = {"nose",          "neck",       "right_shoulder", "right_elbow", "right_wrist",
                   "left_shoulder", "left_elbow", "left_wrist",     "right_hip",   "right_knee",
                   "right_ankle",   "left_hip",   "left_knee",      "left_ankle"};
  s.parents = {1, -1, 1, 2, 3, 1, 5, 6, 1, 8, 9, 1, 11, 12};
  s.bones = edges_of(s.parents);
  s.dim = 2;
  s.up_axis = 1;
  s.up_sign = -1;
  s.root = 1;
  s.foot_joints = {10, 13};
  s.units = "px";
  return s;
}

Skeleton coco17_skeleton() {
  Skeleton s = coco17_common();
  s.name = "coco17";
  s.dim = 2;
  s.up_sign = -1;
  s.units = "px";
  return s;
}

Skeleton coco17_3d_skeleton() {
  Skeleton s = coco17_common();
  s.name = "coco17_3d";
  s.dim = 3;
  s.units = "cm";
  return s;
}

Skeleton smpl24_skeleton() {
  Skeleton s;
  s.name = "smpl24";
  s.joint_names = {"pelvis",     "left_hip",      "right_hip",      "spine1",      "left_knee",
                   "right_knee", "spine2",        "left_ankle",     "right_ankle", "spine3",
                   "left_foot",  "right_foot",    "neck",           "left_collar", "right_collar",
                   "head",       "left_shoulder", "right_shoulder", "left_elbow",  "right_elbow",
                   "left_wrist", "right_wrist",   "left_hand",      "right_hand"};
  s.parents = {-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21};
  s.bones = edges_of(s.parents);
  s.root = 0;
  s.foot_joints = {7, 8, 10, 11};
  s.units = "m";
  return s;
}

Skeleton generic_skeleton(int num_joints, int dim) {
  if (num_joints < 1) throw ConfigError("generic skeleton: need at least one joint");
  if (dim != 2 && dim != 3) {
    throw ConfigError("generic skeleton: dim must be 2 or 3, got " + std::to_string(dim));
  }
  Skeleton s;
  s.name = "generic";
  for (int j = 0; j < num_joints; ++j) s.joint_names.push_back("joint_" + std::to_string(j));
  s.dim = dim;
  if (dim == 2) s.up_sign = -1;  // keypoints usually come in image coordinates
  return s;
}

const std::vector<std::string>& skeleton_names() {
  static const std::vector<std::string> names = {"dwm23", "openpose14", "coco17", "coco17_3d",
                                                 "smpl24"};
  return names;
}

Skeleton skeleton_by_name(const std::string& name) {
  if (name == "dwm23") return dance_with_melody_skeleton();
  if (name == "openpose14") return openpose14_skeleton();
  if (name == "coco17") return coco17_skeleton();
  if (name == "coco17_3d") return coco17_3d_skeleton();
  if (name == "smpl24") return smpl24_skeleton();
  throw ConfigError("unknown skeleton '" + name + "'; known: " + joined_names(skeleton_names()));
}

Skeleton guess_skeleton(int num_joints, int dim) {
  for (const auto& name : skeleton_names()) {
    Skeleton s = skeleton_by_name(name);
    if (s.num_joints() == num_joints && s.dim == dim) return s;
  }
  return generic_skeleton(num_joints, dim);
}

void to_json(nlohmann::json& j, const Skeleton& s) {
  nlohmann::json virtuals = nlohmann::json::array();
  for (const auto& v : s.virtual_joints) {
    virtuals.push_back({{"name", v.name}, {"a", v.a}, {"b", v.b}});
  }
  j = nlohmann::json{{"name", s.name},
                     {"joint_names", s.joint_names},
                     {"virtual_joints", virtuals},
                     {"bones", s.bones},
                     {"parents", s.parents},
                     {"dim", s.dim},
                     {"up_axis", s.up_axis},
                     {"up_sign", s.up_sign},
                     {"root", s.root},
                     {"foot_joints", s.foot_joints},
                     {"units", s.units}};
}

void from_json(const nlohmann::json& j, Skeleton& s) {
  JsonFields f(j, "skeleton");
  s = Skeleton{};
  f.require("name", s.name);
  f.require("joint_names", s.joint_names);
  nlohmann::json virtuals = nlohmann::json::array();
  f.get("virtual_joints", virtuals);
  for (const auto& v : virtuals) {
    JsonFields fv(v, "skeleton: virtual joint");
    VirtualJoint vj;
    fv.require("name", vj.name);
    fv.require("a", vj.a);
    fv.require("b", vj.b);
    fv.finish();
    s.virtual_joints.push_back(vj);
  }
  f.get("bones", s.bones);
  f.get("parents", s.parents);
  f.require("dim", s.dim);
  f.get("up_axis", s.up_axis);
  f.get("up_sign", s.up_sign);
  f.get("root", s.root);
  f.get("foot_joints", s.foot_joints);
  f.get("units", s.units);
  f.finish();
  s.validate();
}

at::Tensor with_virtual_joints(const at::Tensor& joints, const Skeleton& skeleton) {
  check_skeleton_joints(joints, skeleton, "with_virtual_joints");
  if (skeleton.virtual_joints.empty()) return joints;
  std::vector<at::Tensor> parts{joints};
  for (const auto& v : skeleton.virtual_joints) {
    parts.push_back(((joints.select(-2, v.a) + joints.select(-2, v.b)) * 0.5).unsqueeze(-2));
  }
  return torch::cat(parts, -2);
}

at::Tensor bone_lengths(const at::Tensor& joints, const Skeleton& skeleton) {
  check_skeleton_joints(joints, skeleton, "bone_lengths");
  return edge_lengths(with_virtual_joints(joints, skeleton), skeleton.bones);
}

at::Tensor tree_bone_lengths(const at::Tensor& joints, const Skeleton& skeleton) {
  check_skeleton_joints(joints, skeleton, "tree_bone_lengths");
  if (!skeleton.has_tree()) {
    throw ConfigError("tree_bone_lengths: skeleton '" + skeleton.name + "' has no kinematic tree");
  }
  return edge_lengths(with_virtual_joints(joints, skeleton), skeleton.tree_bones());
}

at::Tensor clamp_bone_lengths(const at::Tensor& joints, const Skeleton& skeleton,
                              const at::Tensor& min_lengths, const at::Tensor& max_lengths) {
  check_skeleton_joints(joints, skeleton, "clamp_bone_lengths");
  if (joints.dim() != 3) throw ShapeError("clamp_bone_lengths: expected joints [T, J, D]");
  if (!skeleton.has_tree()) {
    throw ConfigError("clamp_bone_lengths: skeleton '" + skeleton.name + "' has no kinematic tree");
  }
  const auto edges = skeleton.tree_bones();
  const int64_t E = static_cast<int64_t>(edges.size());
  for (const auto* t : {&min_lengths, &max_lengths}) {
    if (!t->defined() || t->dim() != 1 || t->size(0) != E) {
      throw ShapeError("clamp_bone_lengths: expected bounds [" + std::to_string(E) +
                       "] (one per tree bone), got " +
                       (t->defined() ? c10::str(t->sizes()) : std::string("undefined")));
    }
  }
  auto points = with_virtual_joints(joints.to(torch::kFloat64), skeleton);  // [T, P, D]
  auto lo = min_lengths.to(torch::kFloat64).cpu();
  auto hi = max_lengths.to(torch::kFloat64).cpu();
  std::vector<at::Tensor> out(static_cast<size_t>(skeleton.num_points()));
  out[skeleton.root] = points.select(1, skeleton.root);
  for (int64_t e = 0; e < E; ++e) {
    const auto [p, c] = edges[e];
    auto v = points.select(1, c) - points.select(1, p);  // [T, D]
    auto len = v.norm(2, -1, /*keepdim=*/true);
    auto dir = v / len.clamp_min(1e-12);
    auto clamped = len.clamp(lo[e].item<double>(), hi[e].item<double>());
    out[c] = out[p] + dir * clamped;
  }
  std::vector<at::Tensor> real(out.begin(), out.begin() + skeleton.num_joints());
  return torch::stack(real, 1).to(joints.scalar_type());
}

at::Tensor keep_on_floor(const at::Tensor& joints, const Skeleton& skeleton, int64_t window_frames) {
  check_skeleton_joints(joints, skeleton, "keep_on_floor");
  if (skeleton.dim != 3 || joints.size(0) == 0) return joints;
  if (window_frames < 1) throw ConfigError("keep_on_floor: window_frames must be >= 1");
  const int64_t t = joints.size(0);
  auto up = joints.select(2, skeleton.up_axis).to(torch::kFloat64) * skeleton.up_sign;  // [T, J]
  auto low = std::get<0>(up.min(1));                                                 // [T]
  // Centred moving average with the edges repeated, by cumulative sums.
  const int64_t half = window_frames / 2;
  auto padded = torch::cat({low.narrow(0, 0, 1).expand({half}), low, low.narrow(0, t - 1, 1).expand({half})});
  auto cs = torch::cat({torch::zeros({1}, padded.options()), padded.cumsum(0)});
  const int64_t w = 2 * half + 1;
  auto smooth = (cs.narrow(0, w, t) - cs.narrow(0, 0, t)) / static_cast<double>(w);  // [T]
  auto out = joints.to(torch::kFloat64).clone();
  out.select(2, skeleton.up_axis).sub_(smooth.unsqueeze(1) * skeleton.up_sign);
  return out.to(joints.scalar_type());
}

}  // namespace momu
