#include "momu/motion/retarget.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "momu/core/error.h"
#include "motion/joint_roles.h"

namespace momu {

namespace {

// Mean tree-bone lengths (cm) of the Dance with Melody training dances, in tree_bones() order:
// pelvis->hips, pelvis->neck, hips->knees, neck->shoulders, neck->head, knees->ankles,
// shoulders->elbows, head->head points, ankles->feet, elbows->wrists, feet->heels/toes,
// wrists->hands, hands->hand tips (right before left where both are listed).
constexpr double kDwmBones[26] = {18.594, 18.743, 31.169, 47.551, 48.620, 14.316, 14.316,
                                  17.740, 33.049, 33.627, 29.915, 29.245, 5.284,  5.284,
                                  10.978, 9.400,  11.707, 16.952, 10.626, 10.626, 11.203,
                                  11.203, 14.255, 12.093, 4.721,  14.588};
// The range of each bone over those dances, as the shipped experts record it (bone_min, bone_max
// of their configs): retargeted bones are clamped into it.
constexpr double kDwmBoneMin[26] = {14.686, 14.633, 28.770, 41.783, 43.406, 11.486, 11.486, 15.145, 28.520,
                                    29.048, 22.050, 25.109, 1.847,  1.847,  8.050,  6.918,  8.145,  12.801,
                                    9.030,  9.030,  9.107,  9.107,  8.424,  8.538,  2.716,  10.206};
constexpr double kDwmBoneMax[26] = {20.912, 20.889, 34.013, 56.579, 55.212, 18.176, 18.176, 21.920, 36.343,
                                    38.380, 36.244, 37.222, 5.682,  5.682,  13.268, 11.718, 14.269, 18.803,
                                    11.458, 11.458, 12.058, 12.058, 17.386, 14.711, 5.933,  20.234};
// Reference legs (hip-knee-ankle, mean of both sides) and offsets of the placed joints (cm),
// measured on the same dances in the body frame (up, forward).
constexpr double kRefLeg = 0.5 * (47.551 + 33.049 + 48.620 + 33.627);
constexpr double kHeelUp = -6.6, kHeelForward = -6.3;  // heel from the ankle
constexpr double kToeUp = -11.8, kToeForward = 10.2;   // toe from the ankle
constexpr double kHeadPointSide = 5.3;                 // head_0 / head_1 either side of the head
constexpr double kHandFromWrist = 13.0, kTipFromHand = 8.0;
constexpr double kMinSegment = 1.0;                    // cm: shorter source segments are ignored

at::Tensor unit(const at::Tensor& v) { return v / v.norm(2, -1, true).clamp_min(1e-9); }
at::Tensor horizontal(const at::Tensor& v) {  // [T, 3] with y = 0
  at::Tensor h = v.clone();
  h.select(-1, 1).zero_();
  return h;
}
double median_length(const at::Tensor& v) { return v.norm(2, -1).median().item<double>(); }

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (const auto& x : xs) out += (out.empty() ? "" : ", ") + x;
  return out;
}

// The rotation turning the axis the body's up vector follows into +y; label "+z" etc.
at::Tensor up_rotation(const at::Tensor& up_mean, std::string* label) {
  const auto a = up_mean.accessor<double, 1>();
  int axis = 0;
  for (int k = 1; k < 3; ++k) {
    if (std::abs(a[k]) > std::abs(a[axis])) axis = k;
  }
  const bool positive = a[axis] >= 0;
  *label = std::string(positive ? "+" : "-") + "xyz"[axis];
  // Rows: new x, y, z as combinations of the old ones (all proper rotations).
  std::vector<double> r;
  if (axis == 1) {
    r = positive ? std::vector<double>{1, 0, 0, 0, 1, 0, 0, 0, 1} : std::vector<double>{1, 0, 0, 0, -1, 0, 0, 0, -1};
  } else if (axis == 2) {  // about x: y' = +-z
    r = positive ? std::vector<double>{1, 0, 0, 0, 0, 1, 0, -1, 0} : std::vector<double>{1, 0, 0, 0, 0, -1, 0, 1, 0};
  } else {  // about z: y' = +-x
    r = positive ? std::vector<double>{0, -1, 0, 1, 0, 0, 0, 0, 1} : std::vector<double>{0, 1, 0, -1, 0, 0, 0, 0, 1};
  }
  return torch::tensor(r, torch::kFloat64).reshape({3, 3});
}

void name_units(double scale, RetargetReport& r) {
  static const std::pair<const char*, double> units[] = {{"m", 100.0}, {"dm", 10.0}, {"cm", 1.0},
                                                         {"mm", 0.1},  {"in", 2.54}, {"ft", 30.48}};
  double best = 1e9;
  for (const auto& [name, cm] : units) {
    const double d = std::abs(std::log(scale / cm));
    if (d < best) {
      best = d;
      r.units = name;
      r.unit_to_cm = cm;
    }
  }
  if (best > std::log(1.5)) {
    r.units.clear();
    r.unit_to_cm = 1.0;
  }
  r.body_scale = scale / r.unit_to_cm;
}

const BodyRole kRequired[] = {BodyRole::kRightHip,      BodyRole::kRightKnee,  BodyRole::kRightAnkle,
                              BodyRole::kLeftHip,       BodyRole::kLeftKnee,   BodyRole::kLeftAnkle,
                              BodyRole::kRightShoulder, BodyRole::kRightElbow, BodyRole::kRightWrist,
                              BodyRole::kLeftShoulder,  BodyRole::kLeftElbow,  BodyRole::kLeftWrist};

struct SideJoints {
  BodyRole shoulder, elbow, wrist, hand, hand_tip, hip, knee, ankle, heel, toe, toe_tip, ear;
  int i_shoulder, i_elbow, i_wrist, i_hand, i_tip, i_hip, i_knee, i_ankle, i_heel, i_toe;
  const char *hand_name, *tip_name, *heel_name, *toe_name;
};

// Maps onto dwm23 with the roles (steps 2-5 of the header).
Motion retarget_by_roles(const Motion& m, const Skeleton& target, const JointRoles& roles, RetargetReport& r) {
  at::Tensor p = with_virtual_joints(m.joints.to(torch::kFloat64), m.skeleton);  // [T, P, 3]
  auto get = [&](BodyRole role) { return p.select(1, roles.at(role)); };        // [T, 3]
  // Axes (rotation-invariant choices first).
  const at::Tensor hips_mid = 0.5 * (get(BodyRole::kRightHip) + get(BodyRole::kLeftHip));
  const at::Tensor shoulders_mid = 0.5 * (get(BodyRole::kRightShoulder) + get(BodyRole::kLeftShoulder));
  const at::Tensor rot = up_rotation((shoulders_mid - hips_mid).mean(0), &r.up);
  p = torch::matmul(p, rot.t());
  // Units and body size from the legs.
  auto leg = [&](BodyRole hip, BodyRole knee, BodyRole ankle) {
    return (get(hip) - get(knee)).norm(2, -1) + (get(knee) - get(ankle)).norm(2, -1);
  };
  const double legs = 0.5 * (leg(BodyRole::kRightHip, BodyRole::kRightKnee, BodyRole::kRightAnkle) +
                             leg(BodyRole::kLeftHip, BodyRole::kLeftKnee, BodyRole::kLeftAnkle))
                                .median()
                                .item<double>();
  if (!(legs > 1e-9)) throw FormatError("the legs (hip, knee, ankle) have no length");
  const double scale = kRefLeg / legs;
  name_units(scale, r);
  p = p * scale;

  const int64_t t = p.size(0);
  at::Tensor up = torch::zeros({t, 3}, torch::kFloat64);
  up.select(1, 1).fill_(1.0);
  at::Tensor side = horizontal(get(BodyRole::kLeftHip) - get(BodyRole::kRightHip) +
                               get(BodyRole::kLeftShoulder) - get(BodyRole::kRightShoulder));
  side = unit(side);
  const at::Tensor forward = torch::cross(side, up, 1);  // x left, y up, z forward
  const at::Tensor hips = 0.5 * (get(BodyRole::kRightHip) + get(BodyRole::kLeftHip));
  const at::Tensor shoulders = 0.5 * (get(BodyRole::kRightShoulder) + get(BodyRole::kLeftShoulder));

  std::vector<at::Tensor> j(23);
  auto place = [&](int index, const at::Tensor& x, const char* name) {
    j[index] = x;
    r.synthesized.push_back(name);
  };
  auto take = [&](int index, BodyRole role) {
    j[index] = get(role);
    ++r.matched;
  };
  // Pelvis: the source's, unless it is far from the hips (a root on the floor).
  const double thigh = median_length(get(BodyRole::kRightHip) - get(BodyRole::kRightKnee));
  if (roles.has(BodyRole::kPelvis) && median_length(get(BodyRole::kPelvis) - hips) < 0.6 * thigh) {
    take(2, BodyRole::kPelvis);
  } else {
    place(2, hips, "pelvis");
  }
  // Head.
  at::Tensor head;
  if (roles.has(BodyRole::kHead)) {
    head = get(BodyRole::kHead);
  } else if (roles.has(BodyRole::kRightEar) && roles.has(BodyRole::kLeftEar)) {
    head = 0.5 * (get(BodyRole::kRightEar) + get(BodyRole::kLeftEar));
  } else if (roles.has(BodyRole::kHeadTop)) {
    head = get(BodyRole::kHeadTop);
  } else {
    head = shoulders + up * kDwmBones[7];
  }
  if (roles.has(BodyRole::kRightEar) && roles.has(BodyRole::kLeftEar)) {
    take(0, BodyRole::kRightEar);
    take(1, BodyRole::kLeftEar);
  } else {
    place(0, head - side * kHeadPointSide, "head_0");
    place(1, head + side * kHeadPointSide, "head_1");
  }
  const SideJoints sides[2] = {
      {BodyRole::kRightShoulder, BodyRole::kRightElbow, BodyRole::kRightWrist, BodyRole::kRightHand,
       BodyRole::kRightHandTip, BodyRole::kRightHip, BodyRole::kRightKnee, BodyRole::kRightAnkle,
       BodyRole::kRightHeel, BodyRole::kRightToe, BodyRole::kRightToeTip, BodyRole::kRightEar, 3, 4, 5, 6,
       22, 7, 8, 9, 10, 11, "right_hand", "right_hand_tip", "right_heel", "right_toe"},
      {BodyRole::kLeftShoulder, BodyRole::kLeftElbow, BodyRole::kLeftWrist, BodyRole::kLeftHand,
       BodyRole::kLeftHandTip, BodyRole::kLeftHip, BodyRole::kLeftKnee, BodyRole::kLeftAnkle,
       BodyRole::kLeftHeel, BodyRole::kLeftToe, BodyRole::kLeftToeTip, BodyRole::kLeftEar, 12, 13, 14, 15,
       21, 16, 17, 18, 19, 20, "left_hand", "left_hand_tip", "left_heel", "left_toe"}};
  for (const SideJoints& s : sides) {
    take(s.i_shoulder, s.shoulder);
    take(s.i_elbow, s.elbow);
    take(s.i_wrist, s.wrist);
    take(s.i_hip, s.hip);
    take(s.i_knee, s.knee);
    take(s.i_ankle, s.ankle);
    const at::Tensor wrist = get(s.wrist), ankle = get(s.ankle);
    const at::Tensor forearm = unit(wrist - get(s.elbow));
    if (roles.has(s.hand) && median_length(get(s.hand) - wrist) >= kMinSegment) {
      take(s.i_hand, s.hand);
    } else {
      place(s.i_hand, wrist + forearm * kHandFromWrist, s.hand_name);
    }
    const at::Tensor hand = j[s.i_hand];
    if (roles.has(s.hand_tip) && median_length(get(s.hand_tip) - hand) >= kMinSegment) {
      take(s.i_tip, s.hand_tip);
    } else {
      place(s.i_tip, hand + unit(hand - wrist) * kTipFromHand, s.tip_name);
    }
    // Toes: the tip, else the toe base; the foot's own forward direction from them.
    BodyRole toe = roles.has(s.toe_tip) ? s.toe_tip : s.toe;
    at::Tensor foot_forward = forward;
    if (roles.has(toe) && median_length(get(toe) - ankle) >= 2 * kMinSegment) {
      take(s.i_toe, toe);
      const at::Tensor h = horizontal(get(toe) - ankle);
      const at::Tensor ok = (h.norm(2, -1, true) > 1e-6);
      foot_forward = torch::where(ok, unit(h), forward);
    } else {
      place(s.i_toe, ankle + up * kToeUp + forward * kToeForward, s.toe_name);
    }
    if (roles.has(s.heel) && median_length(get(s.heel) - ankle) >= kMinSegment) {
      take(s.i_heel, s.heel);
    } else {
      place(s.i_heel, ankle + up * kHeelUp + foot_forward * kHeelForward, s.heel_name);
    }
  }
  const at::Tensor mapped = torch::stack(j, 1);  // [T, 23, 3]
  const auto [lo, hi] = dwm23_bone_length_range();
  Motion out;
  out.joints = clamp_bone_lengths(mapped, target, lo, hi).to(torch::kFloat32).contiguous();
  out.fps = m.fps;
  out.skeleton = target;
  return out;
}

}  // namespace

std::string RetargetReport::summary() const {
  char scale[64];
  std::string s = "retargeted skeleton '" + source + "' (" + std::to_string(source_joints) + " joints) to '" +
                  target + "': ";
  if (identity) return s + "the same joints by name (identity)";
  s += std::to_string(matched) + " of 23 joints matched";
  if (!synthesized.empty()) s += ", placed " + join(synthesized);
  s += "; up " + up + "; ";
  if (units.empty()) {
    std::snprintf(scale, sizeof scale, "%.4g", body_scale);
    s += std::string("units unknown, scale ") + scale + " to the model's leg length";
  } else {
    std::snprintf(scale, sizeof scale, "%.3f", body_scale);
    s += "units " + units + ", body scale " + scale;
  }
  return s;
}

void to_json(nlohmann::json& j, const RetargetReport& r) {
  j = nlohmann::json{{"source", r.source},           {"target", r.target},
                     {"identity", r.identity},       {"source_joints", r.source_joints},
                     {"matched", r.matched},         {"synthesized", r.synthesized},
                     {"up", r.up},                   {"units", r.units},
                     {"unit_to_cm", r.unit_to_cm},   {"body_scale", r.body_scale}};
}

at::Tensor dwm23_reference_bone_lengths() {
  return torch::tensor(std::vector<double>(std::begin(kDwmBones), std::end(kDwmBones)), torch::kFloat64);
}

std::pair<at::Tensor, at::Tensor> dwm23_bone_length_range() {
  return {torch::tensor(std::vector<double>(std::begin(kDwmBoneMin), std::end(kDwmBoneMin)), torch::kFloat64),
          torch::tensor(std::vector<double>(std::begin(kDwmBoneMax), std::end(kDwmBoneMax)), torch::kFloat64)};
}

Motion retarget_motion(const Motion& motion, const Skeleton& target, RetargetReport* report,
                       const std::string& what) {
  motion.validate(what);
  RetargetReport r;
  r.source = motion.skeleton.name;
  r.target = target.name;
  r.source_joints = motion.skeleton.num_joints();
  bool all_named = motion.skeleton.dim == target.dim;
  for (const auto& name : target.joint_names) {
    const int p = motion.skeleton.find_point(name);
    all_named = all_named && p >= 0 && p < motion.skeleton.num_joints();
  }
  if (all_named) {
    Motion out = select_joints_by_name(motion, target);
    r.identity = true;
    r.matched = target.num_joints();
    r.units = target.units;
    if (report) *report = r;
    return out;
  }
  if (target.name != "dwm23" || target.num_joints() != 23) {
    throw ConfigError(what + ": retargeting onto skeleton '" + target.name +
                      "' is not supported (only onto dwm23, or from a motion that has all its joints by name)");
  }
  if (motion.skeleton.dim != 3) {
    throw ConfigError(what + ": a 2D motion (skeleton '" + motion.skeleton.name +
                      "', image keypoints) cannot be mapped onto the model's 3D skeleton: its depth is "
                      "unknown. Lift the pose to 3D first (a 3D pose estimator) and pass the 3D joints");
  }
  const JointRoles roles = find_joint_roles(motion.skeleton);
  std::vector<std::string> missing, found;
  for (BodyRole role : kRequired) {
    if (!roles.has(role)) missing.push_back(body_role_name(role));
  }
  if (!missing.empty()) {
    for (int k = 0; k < kNumBodyRoles; ++k) {
      if (roles.point[k] >= 0) found.push_back(body_role_name(static_cast<BodyRole>(k)));
    }
    throw FormatError(what + ": cannot map skeleton '" + motion.skeleton.name + "' (" +
                      std::to_string(motion.skeleton.num_joints()) + " joints) onto the model's '" + target.name +
                      "': no joint found for " + join(missing) + " (recognised: " +
                      (found.empty() ? std::string("none") : join(found)) +
                      "). Joint names such as LeftUpLeg/LeftLeg/LeftFoot (CMU, Mixamo), LeftHip/LeftKnee/"
                      "LeftAnkle or left_knee are understood; --skeleton names the layout of an .npy");
  }
  Motion out;
  try {
    out = retarget_by_roles(motion, target, roles, r);
  } catch (const FormatError& e) {
    throw FormatError(what + ": " + e.what());
  }
  out.validate(what + " (retargeted)");
  if (report) *report = r;
  return out;
}

}  // namespace momu
