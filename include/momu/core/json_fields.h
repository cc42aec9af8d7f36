// Strict reading of JSON objects into config structs: every known key is read with a type check,
// and finish() rejects keys nobody asked for (a typo in a config is an error, not a silent default).
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "momu/core/error.h"

namespace momu {

class JsonFields {
 public:
  // `what` names the object in messages, e.g. "config.json: music_vae".
  JsonFields(const nlohmann::json& j, std::string what) : j_(j), what_(std::move(what)) {
    if (!j_.is_object()) throw ConfigError(what_ + ": expected a JSON object");
  }

  // Reads `key` into `out` when present; returns whether it was present.
  template <typename T>
  bool get(const std::string& key, T& out) {
    seen_.insert(key);
    auto it = j_.find(key);
    if (it == j_.end()) return false;
    try {
      out = it->template get<T>();
    } catch (const nlohmann::json::exception& e) {
      throw ConfigError(what_ + ": field '" + key + "' has the wrong type (" + e.what() + ")");
    }
    return true;
  }

  // Like get() but the key must be there.
  template <typename T>
  void require(const std::string& key, T& out) {
    if (!get(key, out)) throw ConfigError(what_ + ": missing field '" + key + "'");
  }

  // Throws ConfigError naming the first key that no get()/require() asked for.
  void finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (seen_.count(it.key()) == 0) {
        throw ConfigError(what_ + ": unknown field '" + it.key() + "'");
      }
    }
  }

 private:
  const nlohmann::json& j_;
  std::string what_;
  std::set<std::string> seen_;
};

}  // namespace momu
