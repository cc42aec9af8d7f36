// Logging and progress reporting. The library never prints: it calls a LogSink and a
// ProgressCallback that the caller (usually the CLI) provides. Both may be empty.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace momu {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

using LogSink = std::function<void(LogLevel level, const std::string& message)>;

struct Progress {
  std::string stage;  // short label, e.g. "prepare"
  int64_t done = 0;   // units finished
  int64_t total = 0;  // units in all (0 when unknown)
  std::string item;   // what was just finished, e.g. a clip name
};

using ProgressCallback = std::function<void(const Progress& progress)>;

// Calls the sink when it is set.
inline void log_to(const LogSink& sink, LogLevel level, const std::string& message) {
  if (sink) sink(level, message);
}

const char* log_level_name(LogLevel level);

}  // namespace momu
