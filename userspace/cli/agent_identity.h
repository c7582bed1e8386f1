#pragma once
// Who is reporting: product version, host name and a per-run id for event uids.

#include "sink/ocsf_http_activity.h"

namespace llmtap::cli {

sink::OcsfContext ocsf_context();

}  // namespace llmtap::cli
