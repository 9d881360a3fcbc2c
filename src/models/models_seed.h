/*
 * models_seed.h: seeds — a CSV file typed the way dbt types it and built
 * as a table through the warehouse's bulk path.
 */
#ifndef SL_MODELS_SEED_H
#define SL_MODELS_SEED_H

#include "models/models_int.h"

/* Types the seed's columns (column_types overriding) and builds its table. */
int m_seed_build(sl_models *m, m_node *n, sl_wh *wh, sl_wh_build_result *res, sl_error *err);

#endif
