// Folders replaced in one step and sets of files written together, beside the single-file writes
// of atomic_file.h. Temporaries of process <pid> are named ".<name>.tmp-<pid>-<hex>" (files and
// file sets) or ".<name>.writing-<pid>" (checkpoint folders), always in the folder of their
// target, so that whoever knows the output folders can find and remove them after an
// interruption (is_temporary_of).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace momu {

// Puts the folder `from` at `to` in one step, replacing a folder already there, whose content is
// then removed. Uses renameat2(RENAME_EXCHANGE), so a reader or a crash sees either the old or
// the new folder, never none; where the file system lacks it, the old folder is first moved to
// `from` + ".old" (a crash there leaves both beside `to`). Throws IoError naming `to`.
void replace_folder(const std::filesystem::path& from, const std::filesystem::path& to);

// Creates the folder `tmp` (its parent must exist; an earlier `tmp` is removed first), calls
// write_files(tmp), and removes `tmp` again if that throws. The first step of a folder written as
// a whole (write_file_set, checkpoint folders). Throws IoError naming `target` and `tmp`.
void fill_temporary_folder(const std::filesystem::path& tmp, const std::filesystem::path& target,
                           const std::function<void(const std::filesystem::path& tmp)>& write_files);

// Writes a set of files that belong together (one joint generation: music, motion, preview) into
// the folder `dir`, never mixed with an earlier set's files: write_files(tmp) fills a fresh
// temporary folder beside `dir` (if it throws, the temporary is removed and `dir` is untouched).
// Then, when `dir` does not exist or holds nothing but names of `set_names` (every name the set
// may have), the temporary replaces it in one step (replace_folder); else (other files live in
// `dir`) every file of `set_names` in `dir` is removed first and the new ones are moved in one by
// one, so an interruption leaves part of the new set, never a mix. Throws IoError naming `dir`.
void write_file_set(const std::filesystem::path& dir, const std::vector<std::string>& set_names,
                    const std::function<void(const std::filesystem::path& tmp)>& write_files);

// Whether `name` (a file or folder name, no folder) is a temporary of process `pid`, by the
// naming rules above.
bool is_temporary_of(const std::string& name, pid_t pid);

// Removes the temporaries of process `pid` in `folder` (files and folders; nothing else).
// Returns how many entries were removed; never throws.
int remove_temporaries_of(const std::filesystem::path& folder, pid_t pid);

}  // namespace momu
