{#- The scorecard layer's keys and values, one test node (macros/folded_tests.sql): every
    check__<name> model holds one row per platform, and the scorecard and its causes hold
    their keys and only the statuses and units they may. The check models are read from the
    scorecard's own list (rpt_signal_scorecard.sql unions them), so a new check is tested
    with no edit here. -#}
{%- set scorecard = ref('rpt_signal_scorecard') -%}
{%- set causes = ref('rpt_check_causes') -%}
{%- set assertions = [] -%}
{%- if execute -%}
    {%- set parents = graph.nodes['model.signal_audit.rpt_signal_scorecard'].depends_on.nodes -%}
    {%- for unique_id in parents | sort if unique_id.split('.')[-1].startswith('check__') -%}
        {%- set node = graph.nodes[unique_id] -%}
        {%- set relation = api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- do assertions.append(('unique ' ~ node.name ~ '.platform', test_unique(relation, 'platform'))) -%}
        {%- do assertions.append(('not_null ' ~ node.name ~ '.platform', test_not_null(relation, 'platform'))) -%}
    {%- endfor -%}
{%- endif -%}
{%- do assertions.extend([
    ('unique_combination rpt_signal_scorecard (platform, check_name)',
        test_unique_combination(scorecard, ['platform', 'check_name'])),
    ('accepted_values rpt_signal_scorecard.status',
        test_accepted_values(scorecard, 'status', ['pass', 'warn', 'fail', 'no_data'])),
    ('unique_combination rpt_check_causes (platform, cause_key)',
        test_unique_combination(causes, ['platform', 'cause_key'])),
    ('unique rpt_check_causes.cause_rank', test_unique(causes, 'cause_rank')),
    ('accepted_values rpt_check_causes.unit',
        test_accepted_values(causes, 'unit', ['orders', 'purchase events'])),
    ('accepted_values rpt_check_causes.status', test_accepted_values(causes, 'status', ['fail', 'warn'])),
]) -%}
{{ failing_rows_of(assertions) }}
