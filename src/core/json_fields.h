// Strict reading of JSON objects into config structs: every known key is read with a type check,
// and finish() rejects keys nobody asked for (a typo in a config is an error, not a silent default).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "momu/core/error.h"

namespace momu {

namespace json_fields_detail {

// Whether the JSON numbers in `j` fit the C++ type T (integers: whole numbers in T's range; the
// conversion nlohmann does is a plain cast, undefined for 1e300 or 2^64 into an int). Vectors,
// arrays, pairs and maps are checked element by element; other types and non-numbers are left
// to nlohmann's own type checks.
template <typename T>
struct Elements : std::false_type {};
template <typename T, typename A>
struct Elements<std::vector<T, A>> : std::true_type {};
template <typename T, size_t N>
struct Elements<std::array<T, N>> : std::true_type {};
template <typename T>
struct IsPair : std::false_type {};
template <typename A, typename B>
struct IsPair<std::pair<A, B>> : std::true_type {};
template <typename T>
struct IsMap : std::false_type {};
template <typename K, typename V, typename C, typename A>
struct IsMap<std::map<K, V, C, A>> : std::true_type {};

template <typename T>
bool number_fits(const nlohmann::json& j) {
  if constexpr (Elements<T>::value) {
    if (!j.is_array()) return true;
    for (const auto& e : j) {
      if (!number_fits<typename T::value_type>(e)) return false;
    }
    return true;
  } else if constexpr (IsPair<T>::value) {
    if (!j.is_array() || j.size() != 2) return true;
    return number_fits<typename T::first_type>(j[0]) && number_fits<typename T::second_type>(j[1]);
  } else if constexpr (IsMap<T>::value) {
    if (!j.is_object()) return true;
    for (const auto& e : j) {
      if (!number_fits<typename T::mapped_type>(e)) return false;
    }
    return true;
  } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    constexpr double lo = static_cast<double>(std::numeric_limits<T>::min());
    constexpr double hi = static_cast<double>(std::numeric_limits<T>::max()) + 1.0;  // exclusive
    if (j.is_number_float()) {
      const double v = j.get<double>();
      return std::isfinite(v) && v == std::trunc(v) && v >= lo && v < hi;
    }
    if (j.is_number_unsigned()) {
      return j.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max());
    }
    if (j.is_number_integer()) {
      const int64_t v = j.get<int64_t>();
      if (v < 0) return std::is_signed_v<T> && static_cast<double>(v) >= lo;
      return static_cast<uint64_t>(v) <= static_cast<uint64_t>(std::numeric_limits<T>::max());
    }
    return true;
  } else {
    return true;
  }
}

}  // namespace json_fields_detail

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
    if (!json_fields_detail::number_fits<T>(*it)) {
      std::string got = it->dump();
      if (got.size() > 60) got = got.substr(0, 57) + "...";
      throw ConfigError(what_ + ": field '" + key + "' must hold whole numbers in the range of " +
                        "its type, got " + got);
    }
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
