#include "motion/joint_roles.h"

#include <algorithm>
#include <cctype>

namespace momu {

namespace {

enum Side { kCentre, kRight, kLeft };

struct ParsedName {
  Side side = kCentre;
  std::string rest;  // lower case, letters and digits only, side removed
};

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }
bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

std::vector<std::string> tokens_of(const std::string& lower) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : lower) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      cur += c;
    } else if (!cur.empty()) {
      out.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

ParsedName parse_name(const std::string& full) {
  // Namespaces and paths: "mixamorig:LeftArm", "rig|Hips".
  std::string name = full.substr(full.find_last_of(":|") == std::string::npos ? 0 : full.find_last_of(":|") + 1);
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::vector<std::string> tokens = tokens_of(lower);
  // 3ds Max biped prefixes ("Bip01 L Thigh") and character prefixes carry no role.
  tokens.erase(std::remove_if(tokens.begin(), tokens.end(),
                              [](const std::string& t) {
                                return starts_with(t, "bip0") || starts_with(t, "character");
                              }),
               tokens.end());
  ParsedName p;
  for (auto it = tokens.begin(); it != tokens.end(); ++it) {
    if (*it == "l" || *it == "left" || *it == "r" || *it == "right") {
      p.side = (*it)[0] == 'l' ? kLeft : kRight;
      tokens.erase(it);
      break;
    }
  }
  if (p.side == kCentre && !tokens.empty()) {
    std::string& first = tokens.front();
    std::string& last = tokens.back();
    if (starts_with(first, "left")) {
      p.side = kLeft;
      first = first.substr(4);
    } else if (starts_with(first, "right")) {
      p.side = kRight;
      first = first.substr(5);
    } else if (ends_with(last, "left") && last.size() > 4) {
      p.side = kLeft;
      last.resize(last.size() - 4);
    } else if (ends_with(last, "right") && last.size() > 5) {
      p.side = kRight;
      last.resize(last.size() - 5);
    } else if (name.size() >= 2 && (name[0] == 'L' || name[0] == 'R') &&
               std::isupper(static_cast<unsigned char>(name[1]))) {  // CMU "LHipJoint"
      p.side = name[0] == 'L' ? kLeft : kRight;
      first = first.substr(1);
    }
  }
  for (const auto& t : tokens) p.rest += t;
  return p;
}

using Groups = std::vector<std::vector<std::string>>;  // name groups in priority order

// The first point of `side` named like the first name of the first group that has one (names in
// a group in priority order); `group_found` gets the index of that group.
int find(const std::vector<ParsedName>& names, Side side, const Groups& groups, int* group_found = nullptr) {
  for (size_t g = 0; g < groups.size(); ++g) {
    for (const std::string& wanted : groups[g]) {
      for (size_t i = 0; i < names.size(); ++i) {
        if (names[i].side == side && names[i].rest == wanted) {
          if (group_found) *group_found = static_cast<int>(g);
          return static_cast<int>(i);
        }
      }
    }
  }
  return -1;
}

struct SideRoles {
  BodyRole shoulder, elbow, wrist, hand, hand_tip, hip, knee, ankle, heel, toe, toe_tip, ear;
};

void match_side(const std::vector<ParsedName>& names, Side side, const SideRoles& r, JointRoles& out) {
  auto set = [&out](BodyRole role, int p) { out.point[static_cast<int>(role)] = p; };
  set(r.shoulder, find(names, side, {{"upperarm", "arm"}, {"shoulder"}}));
  set(r.elbow, find(names, side, {{"forearm", "lowerarm", "elbow"}}));
  int wrist_group = -1;
  set(r.wrist, find(names, side, {{"wrist"}, {"hand"}}, &wrist_group));
  Groups hand{{"handmiddle1", "middle1", "handindex1", "index1", "fingers", "palm", "fingerbase"},
              {"wristend", "handend"}};
  if (wrist_group == 0) hand.insert(hand.begin(), {"hand"});
  set(r.hand, find(names, side, hand));
  set(r.hand_tip, find(names, side, {{"handtip", "fingertip", "fingertips"},
                                     {"handmiddle4", "middle4", "handmiddle3", "middle3", "fingersend", "handindex3", "index3"}}));
  set(r.hip, find(names, side, {{"upleg", "upperleg", "thigh"}, {"hip"}}));
  set(r.knee, find(names, side, {{"leg", "lowerleg", "knee", "shin", "calf"}}));
  int ankle_group = -1;
  set(r.ankle, find(names, side, {{"ankle"}, {"foot"}}, &ankle_group));
  Groups toe{{"toebase", "toes", "toe", "ball"}};
  if (ankle_group == 0) toe.push_back({"foot"});  // SMPL: ankle, then foot (the toe base)
  set(r.toe, find(names, side, toe));
  set(r.toe_tip, find(names, side, {{"toetip", "toebaseend", "toeend", "toesend"}}));
  set(r.heel, find(names, side, {{"heel"}}));
  set(r.ear, find(names, side, {{"ear"}}));
}

}  // namespace

const char* body_role_name(BodyRole role) {
  static const char* const names[kNumBodyRoles] = {
      "pelvis",     "neck",           "head",          "head top",         "right ear",
      "left ear",   "right shoulder", "right elbow",   "right wrist",      "right hand",
      "right hand tip", "left shoulder", "left elbow", "left wrist",       "left hand",
      "left hand tip", "right hip",    "right knee",    "right ankle",      "right heel",
      "right toe",  "right toe tip",  "left hip",      "left knee",        "left ankle",
      "left heel",  "left toe",       "left toe tip"};
  const int i = static_cast<int>(role);
  return i >= 0 && i < kNumBodyRoles ? names[i] : "?";
}

int JointRoles::count() const {
  return static_cast<int>(std::count_if(point.begin(), point.end(), [](int p) { return p >= 0; }));
}

JointRoles find_joint_roles(const Skeleton& skeleton) {
  std::vector<ParsedName> names;
  for (int p = 0; p < skeleton.num_points(); ++p) names.push_back(parse_name(skeleton.point_name(p)));
  JointRoles out;
  auto set = [&out](BodyRole role, int p) { out.point[static_cast<int>(role)] = p; };
  set(BodyRole::kPelvis, find(names, kCentre, {{"hips", "pelvis", "hip"}}));
  set(BodyRole::kNeck, find(names, kCentre, {{"neck"}, {"neck1", "neck01"}}));
  set(BodyRole::kHead, find(names, kCentre, {{"head"}}));
  set(BodyRole::kHeadTop, find(names, kCentre, {{"headtop", "headtopend", "headend", "headnub"}}));
  match_side(names, kRight,
             {BodyRole::kRightShoulder, BodyRole::kRightElbow, BodyRole::kRightWrist, BodyRole::kRightHand,
              BodyRole::kRightHandTip, BodyRole::kRightHip, BodyRole::kRightKnee, BodyRole::kRightAnkle,
              BodyRole::kRightHeel, BodyRole::kRightToe, BodyRole::kRightToeTip, BodyRole::kRightEar},
             out);
  match_side(names, kLeft,
             {BodyRole::kLeftShoulder, BodyRole::kLeftElbow, BodyRole::kLeftWrist, BodyRole::kLeftHand,
              BodyRole::kLeftHandTip, BodyRole::kLeftHip, BodyRole::kLeftKnee, BodyRole::kLeftAnkle,
              BodyRole::kLeftHeel, BodyRole::kLeftToe, BodyRole::kLeftToeTip, BodyRole::kLeftEar},
             out);
  return out;
}

}  // namespace momu
