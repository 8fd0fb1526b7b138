import { DownloadOutlined, FileExcelOutlined, InboxOutlined, ReloadOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Form,
  Radio,
  Result,
  Space,
  Statistic,
  Steps,
  Table,
  Tag,
  Typography,
  Upload,
} from 'antd';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorMessage } from '../../api.ts';
import { can, useMe } from '../../shared/auth.tsx';
import { EmptyState, QueryState } from '../../shared/states.tsx';
import { formatTime } from '../workbench/caseUi.tsx';
import { Forbidden, PageHeader } from '../admin/common.tsx';
import {
  download,
  importModes,
  registryKinds,
  templateUrl,
  uploadImport,
  type ImportMode,
  type ImportResult,
  type ImportStatus,
  type RegistryKind,
} from './files.ts';

const statusColor: Record<ImportStatus, string> = {
  imported: 'green',
  partially_imported: 'orange',
  rejected: 'red',
};

/**
 * 批量导入 (`/registry/import`): 1 kind and template, 2 the workbook and the mode, 3 the result with the rows in
 * error and the error workbook. One clientId per chosen file, so a retry of the same upload is not imported twice.
 */
export default function ImportPage() {
  const { t } = useTranslation('registry');
  const me = useMe();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [step, setStep] = useState(0);
  const [kind, setKind] = useState<RegistryKind>('persons');
  const [mode, setMode] = useState<ImportMode>('all_or_nothing');
  const [file, setFile] = useState<File | null>(null);
  const clientId = useRef<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<ImportResult | null>(null);
  const recent = useQuery({
    queryKey: ['registryImports'],
    queryFn: () => api.registryImports({ query: { limit: 20 } }),
  });

  if (!can(me, 'person.write')) return <Forbidden />;

  async function getFile(url: string, name: string) {
    try {
      await download(url, name);
    } catch (e) {
      void message.error(errorMessage(e));
    }
  }

  async function submit() {
    if (!file) {
      setError(t('import.noFile'));
      return;
    }
    clientId.current ??= crypto.randomUUID();
    setBusy(true);
    setError(null);
    try {
      const answer = await uploadImport({ kind, mode, clientId: clientId.current, file });
      setResult(answer);
      setStep(2);
      void queryClient.invalidateQueries({ queryKey: ['registryImports'] });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  function restart() {
    setFile(null);
    clientId.current = null;
    setResult(null);
    setError(null);
    setStep(0);
  }

  return (
    <div data-testid="import-page">
      <PageHeader title={t('import.title')} intro={t('import.intro')} />
      <Card style={{ marginBottom: 16 }}>
        <Steps
          current={step}
          style={{ marginBottom: 24, maxWidth: 720 }}
          items={[
            { title: t('import.steps.kind') },
            { title: t('import.steps.upload') },
            { title: t('import.steps.result') },
          ]}
        />
        {step === 0 && (
          <Form layout="vertical" style={{ maxWidth: 720 }} onFinish={() => setStep(1)}>
            <Form.Item label={t('import.kind')} htmlFor="import-kind">
              <Radio.Group
                id="import-kind"
                aria-label={t('import.kind')}
                value={kind}
                onChange={(e) => setKind(e.target.value as RegistryKind)}
                optionType="button"
                buttonStyle="solid"
                options={registryKinds.map((k) => ({ value: k, label: t(`kinds.${k}`) }))}
              />
            </Form.Item>
            <Form.Item extra={t('import.templateHint')}>
              <Button
                icon={<DownloadOutlined />}
                onClick={() => void getFile(templateUrl(kind), `${kind}-template.xlsx`)}
                data-testid="import-template"
              >
                {t('import.template')}：{t(`kinds.${kind}`)}
              </Button>
            </Form.Item>
            <Button type="primary" htmlType="submit">
              {t('import.next')}
            </Button>
          </Form>
        )}
        {step === 1 && (
          <Form layout="vertical" style={{ maxWidth: 720 }} onFinish={() => void submit()}>
            <Form.Item label={`${t('import.kind')}：${t(`kinds.${kind}`)}`}>
              <Upload.Dragger
                accept=".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                multiple={false}
                maxCount={1}
                showUploadList={false}
                beforeUpload={(f) => {
                  if (!/\.xlsx$/i.test(f.name)) {
                    setError(t('import.notXlsx', { file: f.name }));
                    return Upload.LIST_IGNORE;
                  }
                  setFile(f);
                  clientId.current = crypto.randomUUID();
                  setError(null);
                  return false;
                }}
                data-testid="import-dragger"
              >
                <p className="ant-upload-drag-icon">{file ? <FileExcelOutlined /> : <InboxOutlined />}</p>
                <p className="ant-upload-text">
                  {file ? t('import.chosen', { file: file.name }) : t('import.drop')}
                </p>
                <p className="ant-upload-hint">{t('import.dropHint')}</p>
              </Upload.Dragger>
            </Form.Item>
            <Form.Item label={t('import.mode')} htmlFor="import-mode" extra={t(`import.modeHint.${mode}`)}>
              <Radio.Group
                id="import-mode"
                aria-label={t('import.mode')}
                value={mode}
                onChange={(e) => setMode(e.target.value as ImportMode)}
                options={importModes.map((m) => ({ value: m, label: t(`import.modes.${m}`) }))}
              />
            </Form.Item>
            {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} />}
            <Space>
              <Button onClick={() => setStep(0)} disabled={busy}>
                {t('import.back')}
              </Button>
              <Button
                type="primary"
                htmlType="submit"
                loading={busy}
                disabled={!file}
                data-testid="import-submit"
              >
                {error && file ? t('import.retry') : t('import.upload')}
              </Button>
              {busy && file && (
                <Typography.Text type="secondary">
                  {t('import.uploading', { file: file.name })}
                </Typography.Text>
              )}
            </Space>
          </Form>
        )}
        {step === 2 && result && (
          <ImportOutcome
            result={result}
            onAgain={restart}
            onDownload={(url) => void getFile(url, 'errors.xlsx')}
          />
        )}
      </Card>
      <Card title={t('import.recent')}>
        <QueryState
          query={recent}
          isEmpty={(d) => d.items.length === 0}
          empty={<EmptyState description={t('import.noRecent')} />}
        >
          {(d) => (
            <Table<ImportResult>
              size="small"
              rowKey="id"
              dataSource={d.items}
              pagination={false}
              data-testid="import-recent"
              columns={[
                {
                  title: t('import.at'),
                  dataIndex: 'createdAt',
                  render: (v: string) => formatTime(v),
                  width: 160,
                },
                { title: t('import.kind'), dataIndex: 'kind', render: (k: RegistryKind) => t(`kinds.${k}`) },
                {
                  title: t('import.mode'),
                  dataIndex: 'mode',
                  render: (m: ImportMode) => t(`import.modes.${m}`),
                },
                {
                  title: t('import.steps.result'),
                  dataIndex: 'status',
                  render: (s: ImportStatus) => <Tag color={statusColor[s]}>{t(`import.status.${s}`)}</Tag>,
                },
                { title: t('import.total'), dataIndex: 'totalRows', align: 'right' },
                { title: t('import.imported'), dataIndex: 'importedRows', align: 'right' },
                { title: t('import.rejected'), dataIndex: 'rejectedRows', align: 'right' },
                { title: t('import.by'), dataIndex: ['createdBy', 'displayName'] },
                {
                  title: '',
                  key: 'errors',
                  render: (_, r) =>
                    r.errorWorkbookUrl ? (
                      <Button
                        size="small"
                        type="link"
                        icon={<DownloadOutlined />}
                        onClick={() => void getFile(r.errorWorkbookUrl!, `errors-${r.id}.xlsx`)}
                      >
                        {t('import.downloadErrors')}
                      </Button>
                    ) : null,
                },
              ]}
            />
          )}
        </QueryState>
      </Card>
    </div>
  );
}

function ImportOutcome({
  result: r,
  onAgain,
  onDownload,
}: {
  result: ImportResult;
  onAgain: () => void;
  onDownload: (url: string) => void;
}) {
  const { t } = useTranslation('registry');
  const status =
    r.status === 'imported' ? 'success' : r.status === 'partially_imported' ? 'warning' : 'error';
  return (
    <div data-testid="import-result">
      <Result
        status={status}
        title={<span data-testid="import-status">{t(`import.status.${r.status}`)}</span>}
        subTitle={t(`import.statusBody.${r.status}`, {
          total: r.totalRows,
          imported: r.importedRows,
          rejected: r.rejectedRows,
        })}
        extra={
          <Space>
            {r.errorWorkbookUrl && (
              <Button
                type="primary"
                icon={<DownloadOutlined />}
                onClick={() => onDownload(r.errorWorkbookUrl!)}
                data-testid="import-download-errors"
              >
                {t('import.downloadErrors')}
              </Button>
            )}
            <Button icon={<ReloadOutlined />} onClick={onAgain}>
              {t('import.again')}
            </Button>
          </Space>
        }
        style={{ paddingBlock: 16 }}
      />
      <Space size={48} style={{ marginBottom: 16 }}>
        <Statistic title={t('import.total')} value={r.totalRows} />
        <Statistic
          title={t('import.imported')}
          value={r.importedRows}
          styles={{ content: { color: '#389e0d' } }}
        />
        <Statistic
          title={t('import.rejected')}
          value={r.rejectedRows}
          styles={{ content: { color: r.rejectedRows ? '#cf1322' : undefined } }}
        />
      </Space>
      {r.errors.length > 0 && (
        <>
          <Typography.Title level={5}>{t('import.errors')}</Typography.Title>
          {r.errorCount > r.errors.length && (
            <Alert
              type="info"
              showIcon
              style={{ marginBottom: 8 }}
              title={t('import.moreErrors', { shown: r.errors.length, count: r.errorCount })}
            />
          )}
          <Table
            size="small"
            rowKey={(e) => `${e.row}:${e.field}:${e.message}`}
            dataSource={r.errors}
            pagination={r.errors.length > 20 ? { pageSize: 20 } : false}
            data-testid="import-errors"
            columns={[
              { title: t('import.row'), dataIndex: 'row', width: 80 },
              {
                title: t('import.column'),
                dataIndex: 'column',
                width: 160,
                render: (v: string) => v || t('import.wholeRow'),
              },
              { title: t('import.message'), dataIndex: 'message' },
            ]}
          />
        </>
      )}
    </div>
  );
}
