// FETCH responses: the data items of one message, written as IMAP wants them.
//
// The session resolves the message set and, when an item needs the message itself
// (ENVELOPE, BODYSTRUCTURE, BODY[...], BINARY[...], RFC822*), reads the stored message
// first; everything else comes from the MailboxView.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "core/base/status.h"
#include "proto/imap/command.h"
#include "proto/mime/mime_tree.h"
#include "tools/ringmaild/access/account_hub.h"
#include "tools/ringmaild/access/mailbox_view.h"

namespace rm {

// True when an item needs the stored message (its bytes or its MIME structure).
bool fetch_needs_message(const imap::FetchArgs& args);
bool fetch_needs_structure(const imap::FetchArgs& args);

// The MIME structure to keep with a message (an encoded proto/mime tree).
std::string mime_structure_of(std::string_view message);

struct FetchOptions {
  bool utf8 = true;        // the client takes UTF-8 in quoted strings
  bool condstore = false;  // CONDSTORE is on: MODSEQ goes with FLAGS changes
  int zone_minutes = 0;    // INTERNALDATE's zone
};

// Appends "* SEQ FETCH (...)\r\n". `stored` may be null when !fetch_needs_message(args).
// Fails with InvalidArgument for an unknown transfer encoding in BINARY (NO [UNKNOWN-CTE]).
Status append_fetch_response(std::string& out, uint32_t seq, const MessageMeta& meta,
                             const MailboxView& view, const StoredMessage* stored,
                             const imap::FetchArgs& args, const FetchOptions& options);

// "FLAGS (\Seen $Junk)" for a message.
void append_flags(std::string& out, const MessageMeta& meta, const MailboxView& view);

}  // namespace rm
