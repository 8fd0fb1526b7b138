import { PlusOutlined } from '@ant-design/icons';
import { caseActionAttachmentsMax, type CasePhoto } from '@wangge/contracts';
import { Upload } from 'antd';
import type { UploadFile, UploadProps } from 'antd';
import { useTranslation } from 'react-i18next';
import { api, errorMessage } from '../../api.ts';

/**
 * Photos for a step (处置前后照片): each file is uploaded to the case at once (POST /api/cases/{id}/photos, re-encoded
 * by the server without EXIF); the step then sends the photo ids as `attachments`.
 */
export function PhotoUpload({
  caseId,
  value,
  onChange,
  id,
}: {
  caseId: number;
  value?: UploadFile<CasePhoto>[];
  onChange?: (files: UploadFile<CasePhoto>[]) => void;
  id?: string;
}) {
  const { t } = useTranslation('workbench');
  const files = value ?? [];
  const customRequest: UploadProps<CasePhoto>['customRequest'] = ({ file, onSuccess, onError }) => {
    const form = new FormData();
    form.append('file', file as Blob);
    api
      .casePhotos({ params: { id: caseId }, body: form })
      .then((photo) => onSuccess?.(photo))
      .catch((e: unknown) => onError?.(new Error(errorMessage(e))));
  };
  return (
    <Upload<CasePhoto>
      id={id}
      accept="image/jpeg,image/png,image/webp"
      listType="picture-card"
      multiple
      fileList={files}
      customRequest={customRequest}
      onChange={({ fileList }) => onChange?.(fileList)}
      maxCount={caseActionAttachmentsMax}
    >
      {files.length < caseActionAttachmentsMax && (
        <button type="button" style={{ border: 0, background: 'none', cursor: 'pointer' }}>
          <PlusOutlined />
          <div style={{ marginTop: 6 }}>{t('form.upload')}</div>
        </button>
      )}
    </Upload>
  );
}

/** Ids of the uploaded photos; null while some are still uploading. */
export function uploadedIds(files: UploadFile<CasePhoto>[] | undefined): number[] | null {
  const list = files ?? [];
  if (list.some((f) => f.status === 'uploading')) return null;
  return list.filter((f) => f.status === 'done' && f.response).map((f) => f.response!.id);
}
