#include "momu/io/audio_file.h"

#include <sndfile.h>
#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <stdexcept>
#include <vector>

#include "core/atomic_file.h"
#include "core/file_names.h"
#include "io/io_limits.h"
#include "momu/audio/resample.h"
#include "momu/core/error.h"

namespace fs = std::filesystem;

namespace momu {

namespace {

struct SndfileCloser {
  void operator()(SNDFILE* f) const {
    if (f != nullptr) sf_close(f);
  }
};
using SndfileHandle = std::unique_ptr<SNDFILE, SndfileCloser>;

// What a header may claim: a sample rate and channel count real files have, and at most
// io_limits::kMaxAudioSeconds of audio (checked before anything is reserved).
constexpr int kMinSampleRateHz = 1000;
constexpr int kMaxSampleRateHz = 768000;
constexpr int kMaxChannels = 1024;
constexpr int64_t kMaxReserveFrames = int64_t{1} << 24;  // 64 MB of float samples

// libsndfile's log mentions these when a header promises more data than the file holds.
bool log_reports_truncation(SNDFILE* file) {
  char log[4096] = {0};
  sf_command(file, SFC_GET_LOG_INFO, log, sizeof(log));
  const std::string text(log);
  return text.find("truncated") != std::string::npos ||
         text.find("Length is wrong") != std::string::npos ||
         text.find("should be") != std::string::npos;
}

uint32_t le32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) | (static_cast<uint32_t>(u[1]) << 8) |
         (static_cast<uint32_t>(u[2]) << 16) | (static_cast<uint32_t>(u[3]) << 24);
}

bool printable_id(const char* p) {
  for (int i = 0; i < 4; ++i) {
    if (p[i] < 0x20 || p[i] > 0x7e) return false;
  }
  return true;
}

// Walks the sub-chunks of a LIST chunk's body (after its 4-byte list type). A sub-chunk whose
// size does not fit in what is left of the list is malformed; writers that leave out the pad byte
// after an odd-sized sub-chunk are accepted (the next id is then looked for one byte earlier).
void check_list_body(const std::string& name, const std::vector<char>& body, uint64_t at) {
  size_t pos = 4;
  bool padded = false;  // the previous sub-chunk had an odd size and a pad byte was skipped
  while (pos + 8 <= body.size()) {
    if (!printable_id(body.data() + pos) && padded && printable_id(body.data() + pos - 1)) --pos;
    const uint32_t size = le32(body.data() + pos + 4);
    const size_t left = body.size() - pos - 8;
    if (!printable_id(body.data() + pos) || size > left) {
      throw FormatError(name + ": malformed RIFF LIST chunk at byte " + std::to_string(at) +
                        " (a sub-chunk at byte " + std::to_string(at + 8 + pos) + " claims " +
                        std::to_string(size) + " bytes, " + std::to_string(left) + " are left)");
    }
    pos += 8 + size;
    padded = (size & 1) != 0;
    if (padded) ++pos;
  }
}

// libsndfile 1.2.0 spins for minutes on a WAV whose LIST chunk holds a sub-chunk larger than the
// chunk (a fuzz finding, docs/reliability.md item 7): the top-level chunks of a RIFF/WAVE file are
// walked before sf_open and such a LIST is refused. Other chunks are left to libsndfile (a data
// chunk may claim more than a truncated or streamed file holds).
void check_riff_lists(const fs::path& path) {
  const std::string name = path.string();
  std::ifstream in(path, std::ios::binary);
  char head[12];
  if (!in.read(head, 12) || std::memcmp(head, "RIFF", 4) != 0 || std::memcmp(head + 8, "WAVE", 4) != 0) {
    return;
  }
  std::error_code ec;
  const uint64_t file_size = fs::file_size(path, ec);
  if (ec) return;
  constexpr uint32_t kMaxListBytes = 1u << 24;
  uint64_t pos = 12;
  for (int n = 0; n < 100000 && pos + 8 <= file_size; ++n) {
    char h[8];
    in.seekg(static_cast<std::streamoff>(pos));
    if (!in.read(h, 8)) return;
    const uint32_t size = le32(h + 4);
    if (std::memcmp(h, "LIST", 4) == 0) {
      if (pos + 8 + size > file_size || size > kMaxListBytes) {
        throw FormatError(name + ": malformed RIFF LIST chunk at byte " + std::to_string(pos) + " (it claims " +
                          std::to_string(size) + " bytes, the file has " + std::to_string(file_size - pos - 8) +
                          " after its header)");
      }
      std::vector<char> body(size);
      if (size > 0 && !in.read(body.data(), size)) return;
      check_list_body(name, body, pos);
    }
    pos += 8 + static_cast<uint64_t>(size) + (size & 1);
  }
}

}  // namespace

bool is_audio_file(const fs::path& path) {
  const std::string ext = lower_extension(path);
  return ext == ".wav" || ext == ".flac" || ext == ".ogg" || ext == ".oga" || ext == ".mp3" ||
         ext == ".aiff" || ext == ".aif" || ext == ".opus";
}

Audio load_audio(const fs::path& path, const AudioLoadOptions& options) {
  const std::string name = path.string();
  std::error_code ec;
  if (!fs::exists(path, ec)) throw IoError(name + ": no such audio file");
  if (fs::is_directory(path, ec)) throw IoError(name + ": is a folder, not an audio file");
  if (std::ifstream probe(path, std::ios::binary); !probe) {  // unreadable: I/O, not the format
    throw IoError(name + ": cannot open for reading: " + std::strerror(errno));
  }
  if (fs::file_size(path, ec) == 0) throw FormatError(name + ": empty file (0 bytes)");
  if (options.target_rate_hz < 0) {
    throw ConfigError(name + ": target sample rate must be positive, got " +
                      std::to_string(options.target_rate_hz));
  }

  check_riff_lists(path);
  SF_INFO info{};
  SndfileHandle file(sf_open(name.c_str(), SFM_READ, &info));
  if (!file) {
    // The file exists and is readable (checked above); libsndfile's MP3 probe still says "File
    // does not exist or is not a regular file" for bytes it cannot decode: say what it means.
    std::string why = sf_strerror(nullptr);
    if (why.find("does not exist") != std::string::npos) why = "unrecognised or corrupt audio data";
    throw FormatError(name + ": not a readable audio file (" + why +
                      "); supported: WAV, FLAC, OGG/Vorbis/Opus, MP3");
  }
  if (info.channels <= 0 || info.samplerate <= 0) {
    throw FormatError(name + ": invalid header (channels " + std::to_string(info.channels) +
                      ", sample rate " + std::to_string(info.samplerate) + ")");
  }
  if (info.channels > kMaxChannels || info.samplerate < kMinSampleRateHz ||
      info.samplerate > kMaxSampleRateHz) {
    throw FormatError(name + ": header claims " + std::to_string(info.channels) + " channels at " +
                      std::to_string(info.samplerate) + " Hz; momu reads 1 to " +
                      std::to_string(kMaxChannels) + " channels at " +
                      std::to_string(kMinSampleRateHz) + " to " + std::to_string(kMaxSampleRateHz) +
                      " Hz");
  }
  const int64_t max_frames =
      static_cast<int64_t>(io_limits::kMaxAudioSeconds * static_cast<double>(info.samplerate));
  const std::string max_text = io_limits::short_number(io_limits::kMaxAudioSeconds / 3600.0) + " h";
  const std::string ext = lower_extension(path);
  const bool pcm_like = ext != ".mp3";
  if (info.frames == SF_COUNT_MAX) {  // libsndfile found no length: the stream's end is missing
    if (pcm_like) {
      throw FormatError(name +
                        ": truncated file (the end of the stream is missing, so its "
                        "length is unknown)");
    }
    info.frames = 0;  // decoded up to max_frames
  }
  if (info.frames < 0 || info.frames > max_frames) {
    throw FormatError(
        name + ": header claims " + std::to_string(info.frames) + " frames (" +
        io_limits::short_number(static_cast<double>(info.frames) / info.samplerate / 3600.0) +
        " h at " + std::to_string(info.samplerate) +
        " Hz): corrupt or truncated header, or longer than momu reads (at most " + max_text + ")");
  }
  if (pcm_like && log_reports_truncation(file.get())) {
    throw FormatError(name + ": truncated file (the header promises more audio than it holds)");
  }

  int64_t start = 0;
  if (options.offset_s > 0.0) {
    start = static_cast<int64_t>(std::llround(options.offset_s * info.samplerate));
    if (start >= info.frames && info.frames > 0) {
      throw ConfigError(name + ": offset " + std::to_string(options.offset_s) +
                        " s is past the end of the file");
    }
    if (sf_seek(file.get(), start, SEEK_SET) < 0) {
      throw FormatError(name + ": cannot seek to " + std::to_string(options.offset_s) + " s");
    }
  }
  int64_t wanted = -1;
  if (options.duration_s >= 0.0) {
    wanted = static_cast<int64_t>(std::llround(options.duration_s * info.samplerate));
  }

  // Decoded in blocks of 4096 frames; the length is capped whatever the header said (a stream
  // may hold more than it announced), and at most kMaxReserveFrames are reserved up front (the
  // rest grows with what the file really holds).
  const int channels = info.channels;
  std::vector<float> mono;
  std::vector<float> block(static_cast<size_t>(4096) * channels);
  int64_t total = 0;
  try {
    int64_t expected = std::min<int64_t>(info.frames - start, kMaxReserveFrames);
    if (wanted >= 0) expected = std::min(expected, wanted);
    if (expected > 0) mono.reserve(static_cast<size_t>(expected));
    while (wanted < 0 || total < wanted) {
      sf_count_t ask = 4096;
      if (wanted >= 0) ask = std::min<sf_count_t>(ask, wanted - total);
      const sf_count_t got = sf_readf_float(file.get(), block.data(), ask);
      if (got <= 0) break;
      if (total + got > max_frames) {
        throw FormatError(name + ": holds more than " + max_text +
                          " of audio (the most momu reads)");
      }
      for (sf_count_t i = 0; i < got; ++i) {
        float sum = 0.0f;
        for (int c = 0; c < channels; ++c) sum += block[static_cast<size_t>(i) * channels + c];
        mono.push_back(channels == 1 ? sum : sum / static_cast<float>(channels));
      }
      total += got;
    }
  } catch (const std::bad_alloc&) {
    throw FormatError(name + ": not enough memory to decode " + std::to_string(total) + " of " +
                      std::to_string(info.frames) + " frames");
  } catch (const std::length_error&) {
    throw FormatError(name + ": not enough memory to decode " + std::to_string(info.frames) +
                      " frames");
  }
  if (sf_error(file.get()) != SF_ERR_NO_ERROR) {
    throw FormatError(name + ": decoding failed: " + sf_strerror(file.get()));
  }
  if (mono.empty()) throw FormatError(name + ": holds no audio samples");
  // An Ogg stream's length is the last page's granule position, which encoders and stream
  // joiners leave up to a block past the samples that really decode (ffmpeg decodes the same
  // count): a shortfall within one largest Vorbis block (8192 frames) is not a truncation.
  const int64_t tolerated = (ext == ".ogg" || ext == ".oga" || ext == ".opus") ? 8192 : 0;
  if (pcm_like && info.frames > 0 && wanted < 0 && total + start + tolerated < info.frames) {
    throw FormatError(name + ": truncated file (" + std::to_string(total + start) + " of " +
                      std::to_string(info.frames) + " frames could be decoded)");
  }
  for (float v : mono) {
    if (!std::isfinite(v)) throw FormatError(name + ": contains NaN or infinite samples");
  }

  Audio audio;
  audio.sample_rate_hz = info.samplerate;
  audio.samples = torch::from_blob(mono.data(), {static_cast<int64_t>(mono.size())},
                                   torch::kFloat32)
                      .clone();
  if (options.target_rate_hz > 0 && options.target_rate_hz != info.samplerate) {
    audio.samples = resample_audio(audio.samples, info.samplerate, options.target_rate_hz);
    audio.sample_rate_hz = options.target_rate_hz;
  }
  return audio;
}

void write_wav(const fs::path& path, const Audio& audio, WavSampleFormat format) {
  const std::string name = path.string();
  if (!audio.samples.defined() || audio.samples.dim() != 1) {
    throw ShapeError(name + ": write_wav expects mono samples [N]");
  }
  if (audio.sample_rate_hz <= 0) {
    throw ConfigError(name + ": sample rate must be positive, got " +
                      std::to_string(audio.sample_rate_hz));
  }
  auto samples = audio.samples.to(torch::kCPU, torch::kFloat32).contiguous();
  if (!torch::isfinite(samples).all().item<bool>()) {
    throw FormatError(name + ": refusing to write audio that contains NaN or infinite samples");
  }
  write_file_atomically(path, [&](const fs::path& tmp) {
    SF_INFO info{};
    info.samplerate = audio.sample_rate_hz;
    info.channels = 1;
    info.format = SF_FORMAT_WAV |
                  (format == WavSampleFormat::kPcm16 ? SF_FORMAT_PCM_16 : SF_FORMAT_FLOAT);
    SndfileHandle file(sf_open(tmp.string().c_str(), SFM_WRITE, &info));
    if (!file) throw IoError(name + ": cannot open for writing: " + sf_strerror(nullptr));
    if (format == WavSampleFormat::kPcm16) {
      // Clip instead of wrapping around.
      sf_command(file.get(), SFC_SET_CLIPPING, nullptr, SF_TRUE);
    }
    const int64_t n = samples.size(0);
    const sf_count_t written = sf_writef_float(file.get(), samples.data_ptr<float>(), n);
    if (written != n) throw IoError(name + ": write failed: " + sf_strerror(file.get()));
    file.reset();
  });
}

}  // namespace momu
