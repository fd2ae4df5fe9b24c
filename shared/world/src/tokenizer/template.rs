//! The chat template written to `tokenizer_config.json`.

/// The Qwen-style ChatML template of the project's tiny fixtures (`shared/model/fixtures/qwen2_fixture.py`,
/// `CHAT_TEMPLATE`), byte for byte as transformers saves it: plain-string and list content (image and
/// video parts become `<image>` / `<video>`), tools, a default system prompt, and the generation prompt.
pub const CHAT_TEMPLATE: &str = r#"{%- if tools %}
{{- '<|im_start|>system\n' }}
{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}{%- else %}{{- 'You are a helpful assistant.' }}{%- endif %}
{{- "\n\n# Tools\n\n<tools>" }}
{%- for tool in tools %}
{{- "\n" }}{{- tool | tojson }}
{%- endfor %}
{{- "\n</tools><|im_end|>\n" }}
{%- elif messages[0]['role'] != 'system' %}
{{- '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}
{%- endif %}
{%- for message in messages %}
{%- if message['role'] not in ['system', 'user', 'assistant'] %}
{{- raise_exception('Unknown role: ' + message['role']) }}
{%- endif %}
{%- if tools and message['role'] == 'system' %}{% continue %}{% endif %}
    {% if loop.first and message['role'] == 'system' %}
{{ '<|im_start|>system\n' + message['content'].strip() + '<|im_end|>\n' }}
    {% else %}
{{- '<|im_start|>' + message['role'] + '\n' }}
{%- if message['content'] is string %}
{{- message['content'].strip() }}
{%- else %}
{%- for part in message['content'] %}
{%- if part['type'] == 'image' %}{{- '<image>' }}{%- elif part['type'] == 'video' %}{{- '<video>' }}{%- elif part['type'] == 'text' %}{{- part['text'] }}{%- endif %}
{%- endfor %}
{%- endif %}
{{- '<|im_end|>\n' }}
    {% endif %}
{%- endfor %}
{%- if add_generation_prompt %}
{{- '<|im_start|>assistant\n' }}
{%- endif %}
"#;
